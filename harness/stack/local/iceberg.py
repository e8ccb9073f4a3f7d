"""Iceberg: a JDBC catalog in the stack's PostgreSQL over a local file warehouse.

Not a process: a catalog database and a directory. Flink writes through the Java
JdbcCatalog; pyiceberg's SqlCatalog reads the same tables under the same catalog name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from harness.stack.endpoint import IcebergEndpoint, PostgresEndpoint
from harness.stack.mounts import mount_limited, unmount_all
from harness.stack.service import ReadinessProbe, Service

CATALOG = "cutover"
DATABASE = "iceberg"


class IcebergService(Service):
    """Creates the catalog database and warehouse; ready when pyiceberg lists namespaces."""

    name = "iceberg"

    def __init__(self, *, run_dir: Path, postgres: PostgresEndpoint,
                 warehouse_size_mb: int = 0) -> None:
        self.postgres = postgres
        self.warehouse = run_dir / "iceberg" / "warehouse"
        self.warehouse_size_mb = warehouse_size_mb

    def start(self) -> None:
        self.warehouse.mkdir(parents=True, exist_ok=True)
        if self.warehouse_size_mb:  # its own small filesystem, which a disk fault fills
            mount_limited(self.warehouse, self.warehouse_size_mb, service=self.name)
        with psycopg.connect(self.postgres.dsn, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (DATABASE,)).fetchone():
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, self._check).wait(timeout_s)

    def _check(self) -> str | None:
        from harness.iceberg import open_catalog  # pyiceberg is slow to import

        try:
            with open_catalog(self.endpoint()) as catalog:
                catalog.list_namespaces()
        except Exception as exc:  # any failure here means "not ready", with its reason
            return f"catalog not usable: {exc}"
        return None

    def stop(self) -> None:
        """Nothing runs: the catalog lives in PostgreSQL, which stops on its own."""

    def clean(self) -> None:
        unmount_all(self.warehouse.parent)
        shutil.rmtree(self.warehouse.parent, ignore_errors=True)

    def endpoint(self) -> IcebergEndpoint:
        pg = self.postgres
        return IcebergEndpoint(
            self.name, CATALOG,
            jdbc_uri=f"jdbc:postgresql://{pg.host}:{pg.port}/{DATABASE}",
            sqlalchemy_uri=f"postgresql+psycopg://{pg.user}@{pg.host}:{pg.port}/{DATABASE}",
            user=pg.user, warehouse=f"file://{self.warehouse}")
