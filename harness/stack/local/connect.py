"""Kafka Connect (distributed mode) with the Debezium PostgreSQL connector and the
Apicurio Avro converter on its plugin path."""

from __future__ import annotations

from pathlib import Path

import httpx

from harness.stack.endpoint import HttpEndpoint, KafkaEndpoint
from harness.stack.local.process_service import JvmService
from harness.stack.ports import HOST, allocate_port
from harness.stack.service import ReadinessProbe

DEBEZIUM_CLASS = "io.debezium.connector.postgresql.PostgresConnector"
LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.logger.org.reflections=ERROR
log4j.logger.org.apache.kafka.clients=WARN
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


class ConnectService(JvmService):
    """A Connect worker whose internal topics live in the stack's Kafka."""

    name = "connect"

    def __init__(self, *, run_dir: Path, java: str, kafka: KafkaEndpoint, libs_dir: Path,
                 plugin_dirs: list[Path], heap: str = "512m") -> None:
        super().__init__(run_dir=run_dir, java=java)
        self.kafka, self.libs_dir, self.plugin_dirs = kafka, libs_dir, plugin_dirs
        self.heap, self.port = heap, 0

    def worker_properties(self) -> dict[str, str]:
        json_converter = "org.apache.kafka.connect.json.JsonConverter"
        props = {
            "bootstrap.servers": self.kafka.bootstrap_servers,
            "listeners": f"http://{HOST}:{self.port}",
            "rest.advertised.host.name": HOST,
            "rest.advertised.port": str(self.port),
            "group.id": "cutover-connect",
            "key.converter": json_converter,
            "value.converter": json_converter,
            "offset.flush.interval.ms": "1000",
            "plugin.path": ",".join(str(p) for p in self.plugin_dirs),
            "plugin.discovery": "hybrid_warn",  # the converter ships no ServiceLoader files
        }
        for kind, topic in (("config", "configs"), ("offset", "offsets"),
                            ("status", "status")):
            props[f"{kind}.storage.topic"] = f"_cutover_connect_{topic}"
            props[f"{kind}.storage.replication.factor"] = "1"
        props["offset.storage.partitions"] = props["status.storage.partitions"] = "1"
        return props

    def start(self) -> None:
        self.port = allocate_port(purpose="Kafka Connect REST")
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j.properties").write_text(LOG4J)
        config = self.home / "worker.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in self.worker_properties().items()))
        self.spawn_java([f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
                    "-cp", f"{self.libs_dir}/*",
                    "org.apache.kafka.connect.cli.ConnectDistributed", str(config)])

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, self._check, self.died, log_path=self.log_path,
                       interval_s=0.3).wait(timeout_s)

    def _check(self) -> str | None:
        try:
            plugins = httpx.get(f"{self.endpoint().url}/connector-plugins", timeout=2)
        except httpx.HTTPError as exc:
            return f"REST API not answering ({type(exc).__name__})"
        if plugins.status_code != 200:
            return f"HTTP {plugins.status_code}"
        if DEBEZIUM_CLASS not in {p["class"] for p in plugins.json()}:
            return "Debezium PostgreSQL connector not loaded yet"
        return None

    def endpoint(self) -> HttpEndpoint:
        return HttpEndpoint(self.name, f"http://{HOST}:{self.port}")
