"""The service a canary run verifies: how to start each version, how to tell it is up.

Nothing here is about one service. A version is either a command (any argv; ``{port}``
is replaced by the port cutover picked for it) or the URL of one already running, which
cutover then only health-checks and routes to. The spec is plain data, so a CLI line, a
fixture factory and a replay bundle all describe the same run::

    ServiceTarget.parse(stable="python -m myservice --port {port}",
                        canary="http://127.0.0.1:8082", health_path="/healthz")
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from harness.errors import ConfigError

PORT_PLACEHOLDER = "{port}"
DEFAULT_VALUES_ROOT = "dataTier.canary"
_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class VersionSpec:
    """One version of the service: a command to start, or a URL already serving.

    Attributes:
        label: The version's name in events, metrics and the report.
        command: The argv, with ``{port}`` somewhere in it; empty when ``url`` is set.
        url: Base URL of a running version; empty when ``command`` is set.
        env: Extra environment of the command.
    """

    label: str
    command: tuple[str, ...] = ()
    url: str = ""
    env: tuple[tuple[str, str], ...] = ()

    @property
    def external(self) -> bool:
        """Whether cutover only routes to this version (it does not start or stop it)."""
        return bool(self.url)

    def argv(self, port: int) -> list[str]:
        """The command with ``{port}`` replaced."""
        return [part.replace(PORT_PLACEHOLDER, str(port)) for part in self.command]

    def host_port(self) -> tuple[str, int]:
        """Host and port of an external version's URL."""
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https"
                                                             else 80)

    @classmethod
    def parse(cls, text: str | list[str] | tuple[str, ...], *, label: str,
              option: str = "version") -> VersionSpec:
        """A version from ``CMD`` (a shell-quoted string or an argv) or ``URL``.

        Raises:
            ConfigError: Empty, a command without ``{port}``, or a URL that is not
                ``http://host:port``; names the option and the fix.
        """
        if isinstance(text, str) and text.strip().startswith(("http://", "https://")):
            url = text.strip().rstrip("/")
            parts = urlsplit(url)
            if not parts.hostname or parts.path not in ("", "/"):
                raise ConfigError(f"{option}: {text!r} is not a base URL like "
                                  "http://127.0.0.1:8080 (no path)")
            return cls(label=label, url=url)
        try:
            argv = tuple(shlex.split(text)) if isinstance(text, str) else tuple(text)
        except ValueError as exc:
            raise ConfigError(f"{option}: cannot split {text!r} into arguments: {exc}") \
                from exc
        if not argv:
            raise ConfigError(f"{option}: empty; give a command with {PORT_PLACEHOLDER} or "
                              "the URL of a running version")
        if not any(PORT_PLACEHOLDER in part for part in argv):
            raise ConfigError(
                f"{option}: the command {shlex.join(argv)!r} has no {PORT_PLACEHOLDER}: "
                f"cutover picks a free port for each version, so write e.g. "
                f"'{shlex.join(argv)} --port {PORT_PLACEHOLDER}', or pass the URL of a "
                "version that already runs")
        return cls(label=label, command=argv)

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "command": list(self.command), "url": self.url,
                "env": dict(self.env)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VersionSpec:
        return cls(label=str(data["label"]), command=tuple(data.get("command") or ()),
                   url=str(data.get("url") or ""),
                   env=tuple(sorted((data.get("env") or {}).items())))


@dataclass(frozen=True)
class ServiceTarget:
    """The service under a canary: its two versions and how to judge them.

    Attributes:
        name: Short name, used for log files and the router's backend.
        stable: The version serving now.
        canary: The version being verified.
        health_path: Path that answers 2xx once a version can take traffic.
        values_root: Dotted key of the canary policy in the values file.
        version_header: Response header naming the version, if the service sets one;
            cutover then cross-checks it against the router's attribution.
        requests: The request mix as ``(METHOD, PATH, BODY)`` triples, sent in turn
            (BODY is "" or the text sent, as JSON when it starts with ``{`` or ``[``).
        start_timeout_s: How long a started version may take to become healthy.
    """

    name: str
    stable: VersionSpec
    canary: VersionSpec
    health_path: str = "/health"
    values_root: str = DEFAULT_VALUES_ROOT
    version_header: str = ""
    requests: tuple[tuple[str, str, str], ...] = (("GET", "/", ""),)
    start_timeout_s: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.health_path.startswith("/"):
            raise ConfigError(f"health path {self.health_path!r} must start with '/'")
        if self.stable.label == self.canary.label:
            raise ConfigError(f"stable and canary are both labelled {self.stable.label!r}; "
                              "give the versions different labels")
        if not self.requests:
            raise ConfigError("the request mix is empty; give at least one 'METHOD PATH'")

    @property
    def slug(self) -> str:
        return _NAME.sub("-", self.name).strip("-") or "service"

    def version(self, slot: str) -> VersionSpec:
        return self.stable if slot == "stable" else self.canary

    def with_canary(self, canary: VersionSpec) -> ServiceTarget:
        return replace(self, canary=canary)

    @classmethod
    def parse(cls, *, stable: str | list[str], canary: str | list[str], name: str = "",
              stable_label: str = "stable", canary_label: str = "canary",
              health_path: str = "/health", values_root: str = DEFAULT_VALUES_ROOT,
              version_header: str = "", requests: str | None = None,
              start_timeout_s: float = 60.0) -> ServiceTarget:
        """A target from CLI-shaped input (``requests`` is the text of a mix file).

        Raises:
            ConfigError: Any part is invalid; the message names the option.
        """
        mix = parse_request_mix(requests) if requests is not None else (("GET", "/", ""),)
        return cls(name=name or "service",
                   stable=VersionSpec.parse(stable, label=stable_label, option="--stable"),
                   canary=VersionSpec.parse(canary, label=canary_label, option="--canary"),
                   health_path=health_path, values_root=values_root,
                   version_header=version_header, requests=mix,
                   start_timeout_s=start_timeout_s)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "stable": self.stable.to_json(),
                "canary": self.canary.to_json(), "health_path": self.health_path,
                "values_root": self.values_root, "version_header": self.version_header,
                "requests": [list(r) for r in self.requests],
                "start_timeout_s": self.start_timeout_s}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceTarget:
        return cls(name=str(data["name"]), stable=VersionSpec.from_json(data["stable"]),
                   canary=VersionSpec.from_json(data["canary"]),
                   health_path=str(data.get("health_path", "/health")),
                   values_root=str(data.get("values_root", DEFAULT_VALUES_ROOT)),
                   version_header=str(data.get("version_header", "")),
                   requests=tuple((str(m), str(p), str(b)) for m, p, b in
                                  data.get("requests") or [("GET", "/", "")]),
                   start_timeout_s=float(data.get("start_timeout_s", 60.0)))


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def parse_request_mix(text: str, *,
                      source: str = "--requests") -> tuple[tuple[str, str, str], ...]:
    """``METHOD PATH [BODY]`` lines as triples; blank lines and lines starting with ``#``
    are skipped. BODY is the rest of the line (JSON when it starts with ``{`` or ``[``).

    Raises:
        ConfigError: A line that is not a known method and a path starting with '/';
            names the line.
    """
    mix = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 2 or parts[0].upper() not in METHODS or not parts[1].startswith("/"):
            raise ConfigError(f"{source} line {number}: {line!r} is not 'METHOD PATH [BODY]' "
                              f"(e.g. 'GET /items/1'; methods: {', '.join(sorted(METHODS))})")
        mix.append((parts[0].upper(), parts[1], parts[2] if len(parts) == 3 else ""))
    if not mix:
        raise ConfigError(f"{source}: no 'METHOD PATH' line in it")
    return tuple(mix)
