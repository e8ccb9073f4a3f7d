"""Resolving manifest components from Maven Central into the local cache with ``mvn``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from harness.errors import PrerequisiteError
from harness.stack.local.prereqs import find_mvn
from harness.stack.manifest import Component

_MARKER = ".complete"


def component_dir(cache_dir: Path, component: Component) -> Path:
    """Where a component's jars live: one directory per exact artifact list."""
    return cache_dir / "components" / f"{component.name}-{component.version}-" \
        f"{component.fingerprint}"


def is_installed(cache_dir: Path, component: Component) -> bool:
    return (component_dir(cache_dir, component) / _MARKER).is_file()


def render_pom(component: Component) -> str:
    """A throwaway POM whose dependencies are the component's artifacts."""
    deps = []
    for coordinate in component.artifacts:
        parts = coordinate.split(":")
        group, artifact, version = parts[:3]
        extra = ""
        if len(parts) >= 4:
            extra += f"<type>{escape(parts[3])}</type>"
        if len(parts) == 5:
            extra += f"<classifier>{escape(parts[4])}</classifier>"
        if not component.transitive:
            extra += "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId>" \
                     "</exclusion></exclusions>"
        deps.append(
            f"<dependency><groupId>{escape(group)}</groupId>"
            f"<artifactId>{escape(artifact)}</artifactId>"
            f"<version>{escape(version)}</version>{extra}</dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">'
        "<modelVersion>4.0.0</modelVersion><groupId>cutover.cache</groupId>"
        f"<artifactId>{escape(component.name)}</artifactId><version>1</version>"
        "<packaging>pom</packaging><dependencies>" + "".join(deps) + "</dependencies></project>"
    )


def ensure_component(
    cache_dir: Path,
    component: Component,
    *,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Path:
    """Return the directory of the component's jars, downloading them once if needed."""
    target = component_dir(cache_dir, component)
    if is_installed(cache_dir, component):
        return target
    mvn = find_mvn()
    progress(f"resolving {component.name} {component.version} from Maven Central into "
             f"{target} (first time only)")
    staging = Path(tempfile.mkdtemp(prefix=f".{component.name}-", dir=_mkdir(cache_dir)))
    try:
        (staging / "pom.xml").write_text(render_pom(component))
        command = [
            mvn, "-B", "-q", "-f", str(staging / "pom.xml"),
            f"-Dmaven.repo.local={cache_dir / 'm2'}",
            "dependency:copy-dependencies", f"-DoutputDirectory={staging / 'libs'}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise PrerequisiteError(
                f"mvn could not resolve {component.name} {component.version} "
                f"({', '.join(component.artifacts)}); check that Maven Central is reachable "
                f"and the versions in harness/stack/versions.toml exist. mvn said:\n{tail}"
            )
        if component.distribution:
            progress(f"downloading {component.distribution} from PyPI (about 230 MB, once)")
            unpack_distribution(component.distribution, staging)
        (staging / _MARKER).write_text("\n".join(component.artifacts) + "\n")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# What the distribution archive contributes: the jars and the memory calculator.
_DISTRIBUTION_MEMBERS = ("deps/lib/", "deps/opt/", "deps/bin/bash-java-utils.jar")


def unpack_distribution(requirement: str, staging: Path) -> Path:
    """Download a PyPI source archive with pip and unpack its ``deps/`` into ``dist/``.

    The archive is never installed: only its jars are used, by JVM processes.
    """
    download = staging / "download"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", str(download), requirement]
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    archives = list(download.glob("*.tar.gz"))
    if result.returncode != 0 or len(archives) != 1:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise PrerequisiteError(f"pip could not download {requirement} from PyPI; check that "
                                f"PyPI is reachable. pip said:\n{tail}")
    dist = staging / "dist"
    with tarfile.open(archives[0]) as archive:
        for member in archive.getmembers():
            _, _, inner = member.name.partition("/")
            if member.isfile() and inner.startswith(_DISTRIBUTION_MEMBERS):
                member.name = inner.removeprefix("deps/")
                archive.extract(member, dist, filter="data")
    shutil.rmtree(download)
    if not (dist / "lib").is_dir():
        raise PrerequisiteError(f"{requirement} holds no deps/lib/: not a Flink distribution")
    return dist


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
