"""Settings and their resolution order.

Every setting resolves in one place and one order:
explicit argument > CLI option > ini/pyproject option > environment variable > default.
Nothing here reads the environment at import time: callers pass ``environ``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(text: str) -> bool:
    """Parse a boolean the way people write it in env vars and ini files."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected one of {sorted(_TRUE | _FALSE)}, got {text!r}")


def parse_port(text: str) -> int:
    """Parse a TCP port; 0 means 'pick a free one'."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(f"a port is 0..65535 (0 picks a free one), got {port}")
    return port


def parse_repeat(text: str) -> int:
    """Parse a repetition count (at least 1)."""
    count = int(text)
    if count < 1:
        raise ValueError(f"a repetition count is at least 1, got {count}")
    return count


def _default_run_root(environ: Mapping[str, str]) -> str:
    # Under the system temp dir, not $HOME: when the harness runs as root, PostgreSQL
    # runs as an unprivileged user who must be able to reach its data directory.
    base = environ.get("TMPDIR") or tempfile.gettempdir()
    return str(Path(base) / f"cutover-{os.getuid()}")


def _default_cache_dir(environ: Mapping[str, str]) -> str:
    xdg = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")) / ".cache")
    return str(Path(xdg).expanduser() / "cutover")


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, environment variable, default and parser."""

    name: str
    help: str
    default: Any
    parse: Callable[[str], Any] = str
    default_from_env: Callable[[Mapping[str, str]], Any] | None = None

    @property
    def env_var(self) -> str:
        return "CUTOVER_" + self.name.upper()

    @property
    def option(self) -> str:
        return "--cutover-" + self.name.replace("_", "-")

    @property
    def ini_key(self) -> str:
        return "cutover_" + self.name


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("provider", "where services run (see `cutover doctor`)", "local"),
        Setting("keep", "leave the stack running after the session", False, parse_bool),
        Setting("keep_on_failure", "leave the stack running, and the failed scenarios' "
                "namespaces in place, when a test failed", False, parse_bool),
        Setting("results_dir", "directory of run results (timelines, bundles, report.html)",
                "cutover-results"),
        Setting("run_id", "name of this run's results folder (default: UTC time and pid)", ""),
        Setting("repeat", "run every selected test this many times", 1, parse_repeat),
        Setting("replay", "incident bundle whose seeds and fault schedule this run reuses "
                "(`cutover replay BUNDLE` sets it)", ""),
        Setting("run_root", "directory holding one folder per run (data, logs)", None,
                default_from_env=_default_run_root),
        Setting("cache_dir", "cache of downloaded artifacts (Maven repository, jars)", None,
                default_from_env=_default_cache_dir),
        Setting("java", "java executable (default: $JAVA_HOME/bin/java, then PATH)", ""),
        Setting("pg_bin_dir", "PostgreSQL server binaries (default: newest "
                "/usr/lib/postgresql/*/bin)", ""),
        Setting("pg_user", "unprivileged user that runs PostgreSQL when cutover runs as root",
                "postgres"),
        Setting("postgres_port", "PostgreSQL port on 127.0.0.1 (0 picks a free one)", 0,
                parse_port),
        Setting("kafka_port", "Kafka broker port on 127.0.0.1 (0 picks a free one)", 0,
                parse_port),
        Setting("kafka_heap", "Kafka JVM heap (-Xmx)", "512m"),
        Setting("flink_checkpoint_interval", "Flink checkpoint interval (recovery scenarios "
                "need a short one)", "2s"),
        Setting("flink_slots", "task slots of Flink's TaskManager: one a running statement "
                "(blue/green runs v1, v2 and their Iceberg sinks side by side)", 24, int),
        Setting("network_faults", "route Flink's connections to Kafka through Toxiproxy, so "
                "network faults can be injected (build it: `cutover install --toxiproxy`)",
                False, parse_bool),
        Setting("warehouse_size_mb", "give the Iceberg warehouse its own filesystem of this "
                "many MB (a tmpfs; needs root), which disk faults fill (0: a plain folder)",
                0, int),
        Setting("images", "containers provider: which column of images.toml, `default` "
                "(official images) or `local` (built by scripts/build-images)", "default"),
        *[Setting(f"image_{service}", f"containers provider: the image of {service} "
                  "(NAME:TAG), instead of images.toml's", "")
          for service in ("postgres", "kafka", "flink", "connect", "registry", "haproxy",
                          "prometheus")],
        Setting("kubeconfig", "kubernetes provider: use the cluster of this kubeconfig "
                "(any cluster, with the Istio CRDs) instead of starting a control plane", ""),
        Setting("kube_context", "kubernetes provider: the context of --cutover-kubeconfig "
                "to use (default: its current context)", ""),
        Setting("endpoints", "external provider: TOML file of the endpoints of services "
                "already running (see `cutover endpoints`)", ""),
        Setting("start_timeout_s", "seconds a service may take to become ready", 120.0, float),
    ]
}


@dataclass(frozen=True)
class Resolved:
    """A resolved value and where it came from (for `cutover doctor` and error messages)."""

    value: Any
    source: str


def resolve(
    name: str,
    *,
    explicit: Any = None,
    cli: Any = None,
    ini: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Resolved:
    """Resolve one setting: explicit > CLI > ini > environment > default."""
    setting = SETTINGS[name]
    environ = {} if environ is None else environ
    for source, raw in (("argument", explicit), ("command line", cli), ("ini", ini)):
        if raw is not None and raw != "":
            return Resolved(_parse(setting, raw, source), source)
    if setting.env_var in environ and environ[setting.env_var] != "":
        return Resolved(_parse(setting, environ[setting.env_var], setting.env_var), "environment")
    if setting.default_from_env is not None:
        return Resolved(setting.default_from_env(environ), "default")
    return Resolved(setting.default, "default")


def _parse(setting: Setting, raw: Any, source: str) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(
            f"setting {setting.name!r} from {source}: {exc}. Fix the value of "
            f"{setting.option} / {setting.ini_key} / {setting.env_var}."
        ) from exc


@dataclass(frozen=True)
class Config:
    """All settings, resolved once. Build it with :func:`load_config`."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def replace(self, **changes: Any) -> Config:
        """A copy with some values given as explicit arguments."""
        unknown = set(changes) - set(SETTINGS)
        if unknown:
            raise ConfigError(f"unknown settings {sorted(unknown)}; known: {sorted(SETTINGS)}")
        values = {**self.values, **changes}
        sources = {**self.sources, **dict.fromkeys(changes, "argument")}
        return Config(values, sources)


def load_config(
    *,
    explicit: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    ini: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve every setting in the documented order."""
    explicit, cli, ini = explicit or {}, cli or {}, ini or {}
    environ = os.environ if environ is None else environ
    for layer in (explicit, cli, ini):
        unknown = set(layer) - set(SETTINGS)
        if unknown:
            raise ConfigError(f"unknown settings {sorted(unknown)}; known: {sorted(SETTINGS)}")
    resolved = {
        name: resolve(name, explicit=explicit.get(name), cli=cli.get(name),
                      ini=ini.get(name), environ=environ)
        for name in SETTINGS
    }
    return Config({n: r.value for n, r in resolved.items()},
                  {n: r.source for n, r in resolved.items()})
