"""Apache Kafka in KRaft mode: one process, combined broker and controller."""

from __future__ import annotations

import base64
import logging
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from harness.errors import ServiceStartError
from harness.faults.toxiproxy import FLINK_KAFKA, ToxiproxyClient
from harness.stack.endpoint import HttpEndpoint, KafkaEndpoint
from harness.stack.local.process_service import JvmService
from harness.stack.ports import HOST, allocate_port
from harness.stack.service import ReadinessProbe

LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.controller=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


def broker_properties(*, broker_port: int, controller_port: int, log_dir: Path,
                      extra: dict[str, str] | None = None,
                      flink_listener: tuple[int, int] | None = None) -> dict[str, str]:
    """server.properties of a single-node KRaft cluster bound to 127.0.0.1.

    ``flink_listener`` (its port, the port it is advertised at) adds a FLINK listener
    reached through a proxy: clients that bootstrap there are told the proxy's address.
    """
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{broker_port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        # A producer that died mid-transaction is aborted within a second of its timeout
        # (default: checked every 10 s), so read-committed consumers are not held long.
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "delete.topic.enable": "true",
    }
    if flink_listener is not None:
        port, advertised = flink_listener
        props["listeners"] += f",FLINK://{HOST}:{port}"
        props["advertised.listeners"] += f",FLINK://{HOST}:{advertised}"
        props["listener.security.protocol.map"] += ",FLINK:PLAINTEXT"
    props.update(extra or {})
    return props


def kraft_cluster_id() -> str:
    """A random KRaft cluster id that no argument parser can take for an option.

    A url-safe base64 uuid starts with "-" one time in 64, and kafka-storage then
    reads it as a flag ("--cluster-id: expected one argument"); Kafka's own
    Uuid.randomUuid draws again in that case, and so do we.
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class KafkaService(JvmService):
    """A KRaft broker from the jars of the manifest's ``kafka`` component."""

    name = "kafka"

    def __init__(self, *, run_dir: Path, java: str, libs_dir: Path, main_class: str,
                 port: int = 0, heap: str = "512m",
                 properties: dict[str, str] | None = None,
                 toxiproxy: HttpEndpoint | None = None) -> None:
        super().__init__(run_dir=run_dir, java=java)
        self.toxiproxy = toxiproxy
        self.proxy_port = 0
        self.libs_dir, self.main_class = libs_dir, main_class
        self.requested_port, self.heap = port, heap
        self.extra_properties = properties or {}
        self.port = self.controller_port = 0

    def _java(self, *args: str) -> list[str]:
        return [self.java, f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
                "-cp", f"{self.libs_dir}/*", *args]

    def start(self) -> None:
        self.port = allocate_port(self.requested_port, purpose="Kafka broker",
                                  option="--cutover-kafka-port")
        self.controller_port = allocate_port(0, purpose="Kafka controller")
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j.properties").write_text(LOG4J)
        props = broker_properties(broker_port=self.port, controller_port=self.controller_port,
                                  log_dir=self.home / "data", extra=self.extra_properties,
                                  flink_listener=self._proxied_listener())
        config = self.home / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        self._format(config)
        jvm = [f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Djava.net.preferIPv4Stack=true", "-Djava.awt.headless=true"]
        self.spawn([self.java, *jvm, *self._java(self.main_class, str(config))[1:]])

    def _proxied_listener(self) -> tuple[int, int] | None:
        """Flink's listener behind Toxiproxy's ``flink-kafka`` proxy (network faults)."""
        if self.toxiproxy is None:
            return None
        listener = allocate_port(purpose="Kafka listener for Flink")
        self.proxy_port = allocate_port(purpose="Toxiproxy flink-kafka proxy")
        client = ToxiproxyClient(self.toxiproxy.url)
        try:
            client.create_proxy(FLINK_KAFKA, listen=f"{HOST}:{self.proxy_port}",
                                upstream=f"{HOST}:{listener}")
        finally:
            client.close()
        return listener, self.proxy_port

    def _format(self, config: Path) -> None:
        """Format the KRaft storage with a fresh cluster id (what kafka-storage.sh does)."""
        result = self.executor.run(
            self._java("kafka.tools.StorageTool", "format", "-t", kraft_cluster_id(),
                       "-c", str(config)),
            timeout=120)
        if result.returncode != 0:
            raise ServiceStartError(self.name, "formatting KRaft storage failed",
                                    log_tail=(result.stdout + result.stderr)[-3000:])

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, self._check, self.died, log_path=self.log_path,
                       interval_s=0.3).wait(timeout_s)

    def _check(self) -> str | None:
        """Ready when a real metadata request lists the broker."""
        conf: dict[str, Any] = {"bootstrap.servers": f"{HOST}:{self.port}",
                                "socket.connection.setup.timeout.ms": 1000, "log_level": 0,
                                "logger": _silent_logger()}  # no connection-refused noise
        admin = AdminClient(conf)
        try:
            metadata = admin.list_topics(timeout=1.5)
        except KafkaException as exc:
            return f"metadata request failed: {exc.args[0] if exc.args else exc}"
        if not metadata.brokers:
            return "metadata lists no broker yet"
        return None

    def endpoint(self) -> KafkaEndpoint:
        flink = f"{HOST}:{self.proxy_port}" if self.proxy_port else ""
        return KafkaEndpoint(self.name, f"{HOST}:{self.port}", flink)


def _silent_logger() -> logging.Logger:
    logger = logging.getLogger("cutover.kafka.probe")
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return logger
