"""Finding what the local provider needs on the machine; each miss names the fix."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from harness.errors import PrerequisiteError

INSTALL_HINT = "run scripts/bootstrap (it installs every prerequisite)"
PG_ROOT = Path("/usr/lib/postgresql")


def find_java(configured: str = "", environ: Mapping[str, str] | None = None) -> str:
    """Return the java executable: the setting, then $JAVA_HOME/bin/java, then PATH."""
    environ = os.environ if environ is None else environ
    if configured:
        candidate = shutil.which(configured) or configured
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            raise PrerequisiteError(
                f"Java runtime not found at {configured!r} (from the 'java' setting); point "
                "--cutover-java / CUTOVER_JAVA at a java 17+ executable, or unset it to use "
                f"JAVA_HOME or PATH; to install one: apt-get install openjdk-17-jre-headless, "
                f"or {INSTALL_HINT}"
            )
        return candidate
    java_home = environ.get("JAVA_HOME", "")
    if java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
        return os.path.join(java_home, "bin", "java")
    found = shutil.which("java", path=environ.get("PATH"))
    if not found:
        raise PrerequisiteError(
            "no Java runtime found (JAVA_HOME unset and no java on PATH); Kafka and Flink need "
            f"Java 17+: apt-get install openjdk-17-jre-headless, or {INSTALL_HINT}, or set "
            "--cutover-java / CUTOVER_JAVA to a java executable"
        )
    return found


def java_major_version(java: str) -> int:
    """Major version of a java executable (``java -version`` prints to stderr)."""
    result = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr)
    if not match:
        raise PrerequisiteError(f"{java} -version printed no version: {result.stderr.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_pg_bin_dir(configured: str = "") -> Path:
    """Directory with PostgreSQL's server binaries (initdb, postgres)."""
    if configured:
        candidates = [Path(configured)]
    else:
        versions = sorted(
            (p for p in PG_ROOT.glob("*/bin") if p.parent.name.isdigit()),
            key=lambda p: int(p.parent.name),
            reverse=True,
        )
        candidates = versions
    for bin_dir in candidates:
        if (bin_dir / "initdb").is_file() and (bin_dir / "postgres").is_file():
            return bin_dir
    where = configured or f"{PG_ROOT}/*/bin"
    raise PrerequisiteError(
        f"PostgreSQL server binaries (initdb, postgres) not found in {where}; "
        f"apt-get install postgresql, or {INSTALL_HINT}, or set --cutover-pg-bin-dir"
    )


def find_mvn() -> str:
    """The Maven executable that resolves artifacts into the cache."""
    found = shutil.which("mvn")
    if not found:
        raise PrerequisiteError(
            f"Maven (mvn) not found on PATH; it downloads the Kafka and Flink jars: "
            f"apt-get install maven, or {INSTALL_HINT}"
        )
    return found


def unprivileged_user(name: str) -> pwd.struct_passwd | None:
    """The account PostgreSQL runs as: None when the harness itself is not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise PrerequisiteError(
            f"PostgreSQL's initdb refuses to run as root, and cutover runs it as user {name!r}, "
            f"which does not exist: install the postgresql package (it creates 'postgres'), "
            f"create one with `useradd --system {name}`, or pass --cutover-pg-user"
        ) from None
