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


def _coordinates(coordinate: str) -> str:
    parts = coordinate.split(":")
    xml = (f"<groupId>{escape(parts[0])}</groupId><artifactId>{escape(parts[1])}</artifactId>"
           f"<version>{escape(parts[2])}</version>")
    if len(parts) >= 4:
        xml += f"<type>{escape(parts[3])}</type>"
    if len(parts) == 5:
        xml += f"<classifier>{escape(parts[4])}</classifier>"
    return xml


def render_pom(component: Component) -> str:
    """A throwaway POM that makes ``mvn`` fetch exactly the component's artifacts.

    Transitive components are dependencies (``dependency:copy-dependencies``, minus the
    exclusions); the others are ``artifactItems`` of ``dependency:copy``, which fetches
    each artifact alone and so works even where its parent POM is not published.
    """
    head = ('<project xmlns="http://maven.apache.org/POM/4.0.0">'
            "<modelVersion>4.0.0</modelVersion><groupId>cutover.cache</groupId>"
            f"<artifactId>{escape(component.name)}</artifactId><version>1</version>"
            "<packaging>pom</packaging>")
    if not component.transitive:
        items = "".join(f"<artifactItem>{_coordinates(c)}</artifactItem>"
                        for c in component.artifacts)
        return (head + "<build><plugins><plugin><groupId>org.apache.maven.plugins</groupId>"
                "<artifactId>maven-dependency-plugin</artifactId><configuration>"
                f"<artifactItems>{items}</artifactItems></configuration></plugin></plugins>"
                "</build></project>")
    exclusions = "".join(
        f"<exclusion><groupId>{escape(g)}</groupId><artifactId>{escape(a)}</artifactId>"
        "</exclusion>" for g, _, a in (e.partition(":") for e in component.exclusions))
    wrapped = f"<exclusions>{exclusions}</exclusions>" if exclusions else ""
    deps = "".join(f"<dependency>{_coordinates(c)}{wrapped}</dependency>"
                   for c in component.artifacts)
    return head + f"<dependencies>{deps}</dependencies></project>"


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
            "dependency:copy-dependencies" if component.transitive else "dependency:copy",
            f"-DoutputDirectory={staging / 'libs'}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise PrerequisiteError(
                f"mvn could not resolve {component.name} {component.version} "
                f"({', '.join(component.artifacts)}); check that Maven Central is reachable "
                f"and the versions in harness/stack/versions.toml exist. mvn said:\n{tail}"
            )
        if component.unpack:
            unpack_archives(staging / "libs")
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


def unpack_archives(libs: Path) -> None:
    """Unpack each ``.tar.gz`` in ``libs`` into a directory of its own name, then drop it."""
    for archive_path in sorted(libs.glob("*.tar.gz")):
        target = libs / archive_path.name.removesuffix(".tar.gz")
        with tarfile.open(archive_path) as archive:
            archive.extractall(target, filter="data")
        archive_path.unlink()


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
