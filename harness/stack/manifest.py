"""The manifest of pinned JVM components (``versions.toml``)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import ConfigError

_COORDINATE_PARTS = (3, 4, 5)  # group:artifact:version[:type[:classifier]]


@dataclass(frozen=True)
class Component:
    """A JVM component: its version and the Maven artifacts that make it up."""

    name: str
    version: str
    artifacts: tuple[str, ...]
    main_class: str = ""
    description: str = ""
    transitive: bool = True
    distribution: str = ""  # a PyPI requirement whose archive holds the distribution
    exclusions: tuple[str, ...] = ()  # group:artifact (``*`` allowed) left out of the tree
    unpack: bool = False  # unpack tar.gz artifacts (plugins, server archives) in place

    @property
    def fingerprint(self) -> str:
        """Short hash of what is downloaded: a cache directory per exact content."""
        content = "\n".join([*self.artifacts, self.distribution, str(self.transitive),
                             *self.exclusions, str(self.unpack)])
        return hashlib.sha256(content.encode()).hexdigest()[:10]


def parse_manifest(text: str, *, origin: str = "versions.toml") -> dict[str, Component]:
    """Parse manifest text; every error names the component and key to fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc}); fix the syntax") from exc
    components = {}
    for name, table in data.items():
        if name in ("go", "gotool"):  # Go-built parts: harness.stack.kubernetes.toolchain
            continue  # and harness.stack.gotools read them
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{name}] must be a table with version and artifacts")
        for key in ("version", "artifacts"):
            if key not in table:
                raise ConfigError(f"{origin}: [{name}] lacks {key!r}; add it")
        artifacts = table["artifacts"]
        if not isinstance(artifacts, list) or not artifacts:
            raise ConfigError(f"{origin}: [{name}].artifacts must be a non-empty list")
        for coordinate in artifacts:
            if not isinstance(coordinate, str) or len(coordinate.split(":")) not in \
                    _COORDINATE_PARTS:
                raise ConfigError(
                    f"{origin}: [{name}] artifact {coordinate!r} is not a Maven coordinate; "
                    "write group:artifact:version[:type[:classifier]]"
                )
        components[name] = Component(
            name=name,
            version=str(table["version"]),
            artifacts=tuple(artifacts),
            main_class=str(table.get("main_class", "")),
            description=str(table.get("description", "")),
            transitive=bool(table.get("transitive", True)),
            distribution=str(table.get("distribution", "")),
            exclusions=tuple(table.get("exclusions", [])),
            unpack=bool(table.get("unpack", False)),
        )
    return components


def load_manifest(path: Path | None = None) -> dict[str, Component]:
    """Load the manifest shipped with the harness (or ``path``)."""
    if path is not None:
        return parse_manifest(path.read_text(), origin=str(path))
    text = resources.files("harness").joinpath("stack/versions.toml").read_text()
    return parse_manifest(text)
