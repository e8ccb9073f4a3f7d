"""PostgreSQL as a throwaway local cluster (Debian's server binaries)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psycopg

from harness.errors import ServiceStartError
from harness.stack.endpoint import PostgresEndpoint
from harness.stack.local.prereqs import find_pg_bin_dir, unprivileged_user
from harness.stack.local.process_service import ProcessService
from harness.stack.ports import HOST, allocate_port
from harness.stack.process import tail
from harness.stack.service import ReadinessProbe

SUPERUSER = "cutover"
DATABASE = "cutover"

# wal_level=logical: Debezium captures changes through a logical replication slot.
# synchronous_commit=on: a row read from a slot right after a write must be durable.
# fsync stays off: the cluster is thrown away after the run, and it halves start time.
DEFAULT_SETTINGS = {
    "listen_addresses": HOST,
    "wal_level": "logical",
    "synchronous_commit": "on",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
    "max_connections": "200",
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "128MB",
}


class PostgresService(ProcessService):
    """A PostgreSQL cluster in the run directory, reachable at 127.0.0.1:<port>."""

    name = "postgres"

    def __init__(self, *, run_dir: Path, bin_dir: str = "", user: str = "postgres",
                 port: int = 0, settings: dict[str, str] | None = None,
                 bin_path: Path | None = None) -> None:
        """``bin_path`` is taken as is (inside a container); ``bin_dir`` is looked up."""
        self.bin_dir = bin_path or find_pg_bin_dir(bin_dir)
        self.account = unprivileged_user(user)
        self.requested_port = port
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        super().__init__(run_dir=run_dir)
        self.data_dir = self.home / "data"
        self.port = 0

    def _ids(self) -> tuple[int | None, int | None]:
        if self.account is None:
            return None, None
        return self.account.pw_uid, self.account.pw_gid

    def start(self) -> None:
        self.port = allocate_port(self.requested_port, purpose="PostgreSQL",
                                  option="--cutover-postgres-port")
        self._initdb()
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir),
                "-p", str(self.port), "-k", str(self.data_dir)]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        uid, gid = self._ids()
        self.spawn(
            argv, user=uid, group=gid,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
            cwd=self.data_dir,
            stop_signal=signal.SIGINT,  # "fast" shutdown: abort sessions, exit cleanly
        )

    def _initdb(self) -> None:
        uid, gid = self._ids()
        root = self.data_dir.parent
        root.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if uid is not None and gid is not None:
            os.chown(root, uid, gid)
            for parent in root.parents:  # the unprivileged user must traverse the path
                if parent == Path("/") or os.stat(parent).st_mode & 0o001:
                    continue
                raise ServiceStartError(
                    self.name, f"{parent} is not searchable by user {self.account.pw_name!r}; "  # type: ignore[union-attr]
                    "use a run root under /tmp (--cutover-run-root) or chmod o+x it")
        command = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                   "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]
        result = self.executor.run(command, user=uid, group=gid, cwd=root,
                                   env={"PATH": os.environ.get("PATH", ""),
                                        "LC_ALL": "C.UTF-8"}, timeout=120)
        if result.returncode != 0:
            raise ServiceStartError(self.name, "initdb failed",
                                    log_tail=(result.stdout + result.stderr)[-3000:])

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, self._check, self.died, log_path=self.log_path,
                       hint="see the log for the reason").wait(timeout_s)
        with psycopg.connect(self._admin_dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def _admin_dsn(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def _check(self) -> str | None:
        try:
            with psycopg.connect(self._admin_dsn("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError as exc:
            return str(exc).strip().splitlines()[0] if str(exc).strip() else "cannot connect"
        return None

    def endpoint(self) -> PostgresEndpoint:
        return PostgresEndpoint(self.name, HOST, self.port, SUPERUSER, DATABASE)

    def log_tail(self) -> str:
        return tail(self.log_path)
