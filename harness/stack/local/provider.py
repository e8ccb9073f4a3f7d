"""LocalProvider: every service a process on 127.0.0.1, data and logs in the run directory."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from harness.stack.artifacts import ensure_component
from harness.stack.endpoint import (
    Endpoint,
    HaproxyEndpoint,
    HttpEndpoint,
    KafkaEndpoint,
    PostgresEndpoint,
)
from harness.stack.gotools import find_tool
from harness.stack.local.connect import ConnectService
from harness.stack.local.flink import FlinkService, FlinkSizing
from harness.stack.local.haproxy import HaproxyService
from harness.stack.local.iceberg import IcebergService
from harness.stack.local.kafka import KafkaService
from harness.stack.local.postgres import PostgresService
from harness.stack.local.prereqs import find_java, find_pg_bin_dir, unprivileged_user
from harness.stack.local.prometheus import PrometheusService
from harness.stack.local.registry import RegistryService
from harness.stack.local.toxiproxy import ToxiproxyService
from harness.stack.manifest import Component, load_manifest
from harness.stack.provider import Provider
from harness.stack.service import Service


class LocalProvider(Provider):
    """Runs services as child processes; teardown leaves no process behind."""

    name: ClassVar[str] = "local"

    @classmethod
    def service_names(cls) -> list[str]:
        return ["postgres", "kafka", "iceberg", "flink", "registry", "connect", "haproxy",
                "prometheus", "toxiproxy"]

    def dependencies(self, name: str) -> list[str]:
        if name == "kafka":  # with network faults, Flink reaches Kafka through Toxiproxy
            return ["toxiproxy"] if self.config["network_faults"] else []
        return {"iceberg": ["postgres"], "connect": ["kafka"],
                "prometheus": ["haproxy"]}.get(name, [])

    def check(self, names: list[str]) -> None:
        for name in names:
            self.require_known(name)
        if "postgres" in names:
            find_pg_bin_dir(self.config["pg_bin_dir"])
            unprivileged_user(self.config["pg_user"])
        if {"kafka", "flink", "registry", "connect"} & set(names):
            find_java(self.config["java"])
        if "toxiproxy" in names:
            find_tool(Path(self.config["cache_dir"]), "toxiproxy")

    def service(self, name: str, running: dict[str, Endpoint]) -> Service:
        self.require_known(name)
        return self.place(self._service(name, running))

    def place(self, service: Service) -> Service:
        """Where the service's commands run: here, as child processes."""
        return service

    def java(self) -> str:
        return find_java(self.config["java"])

    def binary(self, name: str) -> str:
        """A program's path ("" to look it up on PATH where it runs)."""
        return ""

    def pg_bin_path(self) -> Path | None:
        return None

    def _service(self, name: str, running: dict[str, Endpoint]) -> Service:
        if name == "postgres":
            return PostgresService(run_dir=self.run_dir, bin_dir=self.config["pg_bin_dir"],
                                   user=self.config["pg_user"],
                                   port=self.config["postgres_port"],
                                   bin_path=self.pg_bin_path())
        if name == "iceberg":
            postgres = running["postgres"]
            assert isinstance(postgres, PostgresEndpoint)
            return IcebergService(run_dir=self.run_dir, postgres=postgres,
                                  warehouse_size_mb=int(self.config["warehouse_size_mb"]))
        if name == "flink":
            return self._flink()
        if name == "registry":
            return RegistryService(run_dir=self.run_dir, java=self.java(),
                                   component_dir=self._component("registry")[1])
        if name == "haproxy":
            return HaproxyService(run_dir=self.run_dir, binary=self.binary("haproxy"))
        if name == "prometheus":
            haproxy = running["haproxy"]
            assert isinstance(haproxy, HaproxyEndpoint)
            return PrometheusService(run_dir=self.run_dir, haproxy=haproxy,
                                     binary=self.binary("prometheus"))
        if name == "toxiproxy":
            return ToxiproxyService(run_dir=self.run_dir, binary=find_tool(
                Path(self.config["cache_dir"]), "toxiproxy"))
        if name == "connect":
            kafka = running["kafka"]
            assert isinstance(kafka, KafkaEndpoint)
            return self._connect(kafka)
        return self._kafka(running.get("toxiproxy"))

    def _connect(self, kafka: KafkaEndpoint) -> ConnectService:
        _, connect = self._component("connect")
        _, debezium = self._component("debezium")
        _, converter = self._component("avro-converter")
        # plugin.path entries are folders of plugin folders: Debezium's archive unpacks to
        # one, and the converter's component folder holds its jars in libs/.
        return ConnectService(run_dir=self.run_dir, java=self.java(),
                              kafka=kafka, libs_dir=connect / "libs",
                              plugin_dirs=[*sorted((debezium / "libs").iterdir()), converter])

    def _component(self, name: str) -> tuple[Component, Path]:
        component = load_manifest()[name]
        return component, ensure_component(Path(self.config["cache_dir"]), component,
                                           progress=self.progress)

    def _flink(self) -> FlinkService:
        _, path = self._component("flink")
        sizing = FlinkSizing(checkpoint_interval=self.config["flink_checkpoint_interval"],
                             slots=int(self.config["flink_slots"]))
        return FlinkService(run_dir=self.run_dir, java=self.java(),
                            component_dir=path, sizing=sizing)

    def _kafka(self, toxiproxy: Endpoint | None) -> KafkaService:
        component, libs = self._component("kafka")
        return KafkaService(run_dir=self.run_dir, java=self.java(),
                            libs_dir=libs / "libs", main_class=component.main_class,
                            port=self.config["kafka_port"], heap=self.config["kafka_heap"],
                            toxiproxy=toxiproxy if isinstance(toxiproxy, HttpEndpoint)
                            else None)
