"""Single-binary Go tools pinned in ``versions.toml`` (``[gotool.*]``), built once with
``go install`` into the cache: Toxiproxy for network faults.

Apart from the Kubernetes parts (``[go.*]``), so a new tool does not change their
fingerprint and rebuild them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import tomllib
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from harness.errors import ConfigError, PrerequisiteError
from harness.stack.process import tail

_MARKER = ".complete"


@dataclass(frozen=True)
class GoTool:
    """One tool: ``go install <package>@<version>``, its binary renamed to ``binary``."""

    name: str
    module: str
    version: str
    package: str
    binary: str

    def directory(self, cache_dir: Path) -> Path:
        return cache_dir / "tools" / f"{self.name}-{self.version}"

    def path(self, cache_dir: Path) -> Path:
        return self.directory(cache_dir) / "bin" / self.binary


def load_tools(text: str | None = None) -> dict[str, GoTool]:
    """The ``[gotool.*]`` tables of ``versions.toml`` (or of ``text``)."""
    if text is None:
        text = resources.files("harness").joinpath("stack/versions.toml").read_text()
    tools = {}
    for name, table in tomllib.loads(text).get("gotool", {}).items():
        try:
            tools[name] = GoTool(name=name, **table)
        except TypeError as exc:
            raise ConfigError(f"versions.toml: [gotool.{name}]: {exc}; keys are module, "
                              "version, package, binary") from exc
    return tools


def tool(name: str) -> GoTool:
    tools = load_tools()
    if name not in tools:
        raise ConfigError(f"versions.toml lacks [gotool.{name}]; restore it")
    return tools[name]


def find_tool(cache_dir: Path, name: str) -> Path:
    """The built binary of tool ``name``; PrerequisiteError naming the install command."""
    pinned = tool(name)
    path = pinned.path(cache_dir)
    if not (pinned.directory(cache_dir) / _MARKER).is_file() or not path.is_file():
        raise PrerequisiteError(f"{name} {pinned.version} is not built in {cache_dir}; run "
                                f"`cutover install --{name}` (needs Go from go.dev/dl)")
    return path


def ensure_tool(cache_dir: Path, name: str, *, go: str, keep_build_cache: bool = False) -> Path:
    """Build tool ``name`` once; later calls return its path at once."""
    pinned = tool(name)
    root = pinned.directory(cache_dir)
    if (root / _MARKER).is_file() and pinned.path(cache_dir).is_file():
        return pinned.path(cache_dir)
    bin_dir, log = root / "bin", root / "build.log"
    bin_dir.mkdir(parents=True, exist_ok=True)
    go_home = cache_dir / "go"
    env = {**os.environ, "GOPATH": str(go_home / "path"), "GOBIN": str(bin_dir),
           "GOMODCACHE": str(go_home / "path" / "pkg" / "mod"),
           "GOCACHE": str(go_home / f"build-{name}"), "GOFLAGS": "-buildvcs=false",
           "GOTOOLCHAIN": "local"}
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run([go, "install", f"{pinned.package}@{pinned.version}"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1800,
                                check=False)
    if result.returncode != 0:
        raise PrerequisiteError(f"`go install {pinned.package}@{pinned.version}` failed "
                                f"(exit {result.returncode}); log: {log}\n{tail(log)}\nIs the "
                                "Go module proxy reachable?")
    built = bin_dir / Path(pinned.package).name
    if built != pinned.path(cache_dir):
        built.replace(pinned.path(cache_dir))
    if not keep_build_cache:
        shutil.rmtree(env["GOCACHE"], ignore_errors=True)
    (root / _MARKER).write_text(json.dumps(
        {"pin": asdict(pinned), "build_s": round(time.monotonic() - started, 1)}, indent=2))
    return pinned.path(cache_dir)
