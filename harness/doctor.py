"""`cutover doctor`: checks what the stack needs and says exactly how to fix what is missing."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.config import SETTINGS, Config
from harness.errors import CutoverError
from harness.stack.artifacts import component_dir, is_installed
from harness.stack.local.prereqs import (
    find_java,
    find_mvn,
    find_pg_bin_dir,
    java_major_version,
    unprivileged_user,
)
from harness.stack.manifest import load_manifest
from harness.stack.ports import port_is_free
from harness.stack.providers import provider_class

MIN_JAVA = 17


@dataclass(frozen=True)
class Check:
    """The outcome of one doctor check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _check(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except CutoverError as exc:
        return Check(name, False, "missing or unusable", str(exc))


def run_checks(config: Config) -> list[Check]:
    """Every check, in the order a person would fix them."""
    checks = [
        _check("python", _python),
        _check("provider", lambda: provider_class(config["provider"]).name),
        _check("java", lambda: _java(config)),
        _check("postgresql binaries", lambda: str(find_pg_bin_dir(config["pg_bin_dir"]))),
        _check("postgresql user", lambda: _pg_user(config)),
        _check("maven", find_mvn),
        _check("haproxy", lambda: _binary("haproxy")),
        _check("prometheus", lambda: _binary("prometheus")),
    ]
    checks += [_maven_cache(config, name) for name in load_manifest()]
    checks += [_port(config, name) for name in ("postgres_port", "kafka_port")]
    checks.append(_kubernetes(config))
    checks.append(_check("run root", lambda: _writable(Path(config["run_root"]))))
    return checks


def _kubernetes(config: Config) -> Check:
    """The built Kubernetes parts; only the kubernetes provider without a kubeconfig
    needs them."""
    from harness.stack.kubernetes.toolchain import INSTALL_HINT, KubeToolchain, toolchain_dir

    toolchain = KubeToolchain(toolchain_dir(Path(config["cache_dir"])))
    if toolchain.complete():
        versions = ", ".join(f"{n} {v}" for n, v in toolchain.versions().items())
        return Check("kubernetes parts", True, f"{versions} in {toolchain.root}")
    needed = config["provider"] == "kubernetes" and not config["kubeconfig"]
    if needed:
        return Check("kubernetes parts", False, "not built", INSTALL_HINT)
    return Check("kubernetes parts", True, "not built (only --cutover-provider kubernetes "
                 "without --cutover-kubeconfig needs them: cutover install --kubernetes)")


def _binary(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise CutoverError(f"{name} not found on PATH: apt-get install {name}, or run "
                           "scripts/bootstrap")
    return found


def _python() -> str:
    if sys.version_info[:2] != (3, 11):
        raise CutoverError(f"cutover targets Python 3.11, this is {sys.version.split()[0]}; "
                           "run scripts/bootstrap, which makes a 3.11 virtualenv")
    return sys.version.split()[0]


def _java(config: Config) -> str:
    java = find_java(config["java"])
    major = java_major_version(java)
    if major < MIN_JAVA:
        raise CutoverError(f"{java} is Java {major}; Kafka and Flink here need Java "
                           f"{MIN_JAVA}+: apt-get install openjdk-17-jre-headless")
    return f"{java} (Java {major})"


def _pg_user(config: Config) -> str:
    account = unprivileged_user(config["pg_user"])
    if account is None:
        return "not needed (not running as root)"
    return f"runs PostgreSQL as {account.pw_name!r} (uid {account.pw_uid})"


def _maven_cache(config: Config, name: str) -> Check:
    component = load_manifest()[name]
    cache = Path(config["cache_dir"])
    if is_installed(cache, component):
        return Check(f"maven cache: {name}", True, str(component_dir(cache, component)))
    return Check(f"maven cache: {name}", False, f"{name} {component.version} not downloaded",
                 "run `cutover install` (or scripts/bootstrap); the first start also "
                 "downloads it")


def _port(config: Config, name: str) -> Check:
    port = int(config[name])
    option = SETTINGS[name].option
    if port == 0:
        return Check(f"port: {name}", True, "0: a free port is picked at start")
    if port_is_free(port):
        return Check(f"port: {name}", True, f"{port} is free")
    return Check(f"port: {name}", False, f"{port} is taken",
                 f"pick another with {option}, or 0 to pick a free one")


def _writable(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK):
        raise CutoverError(f"{path} is not writable; set --cutover-run-root to a writable dir")
    return str(path)
