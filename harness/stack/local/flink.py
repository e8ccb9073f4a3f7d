"""Apache Flink as a standalone session cluster: JobManager, TaskManager, SQL Gateway.

The three JVMs are launched directly (no shell scripts in between), so the pids the
harness records are the JVMs themselves. Memory options are computed by Flink's own
BashJavaUtils, exactly as its start scripts do.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness.errors import ServiceStartError
from harness.stack.endpoint import FlinkEndpoint
from harness.stack.executor import RunningProcess
from harness.stack.ports import HOST, allocate_port
from harness.stack.process import peak_rss_bytes
from harness.stack.service import ReadinessProbe, Service

# What Flink's stock config.yaml passes to every JVM on Java 17.
JAVA_OPENS = [
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    *(f"--add-opens=java.base/{pkg}=ALL-UNNAMED" for pkg in (
        "java.lang", "java.net", "java.io", "java.nio", "sun.nio.ch", "java.lang.reflect",
        "java.text", "java.time", "java.util", "java.util.concurrent",
        "java.util.concurrent.atomic", "java.util.concurrent.locks")),
]

LOG4J2 = """\
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
logger.pekko.name = org.apache.pekko
logger.pekko.level = WARN
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-50c{1.} - %m%n
"""

_RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"


@dataclass(frozen=True)
class FlinkSizing:
    """Memory and slots of the session cluster: modest, room for two dozen small statements."""

    jobmanager_process: str = "1024m"
    taskmanager_process: str = "1536m"
    slots: int = 24
    gateway_heap: str = "384m"
    checkpoint_interval: str = "2s"


def flink_config(*, home: Path, ports: dict[str, int], sizing: FlinkSizing) -> dict[str, Any]:
    """The flat config.yaml of a cluster bound to 127.0.0.1 with checkpoints in ``home``."""
    tmp = home / "tmp"
    return {
        "jobmanager.bind-host": HOST,
        "jobmanager.rpc.address": HOST,
        "jobmanager.rpc.port": ports["jobmanager_rpc"],
        "jobmanager.memory.process.size": sizing.jobmanager_process,
        "jobmanager.execution.failover-strategy": "region",
        "taskmanager.bind-host": HOST,
        "taskmanager.host": HOST,
        "taskmanager.rpc.port": ports["taskmanager_rpc"],
        "taskmanager.data.port": ports["taskmanager_data"],
        "taskmanager.numberOfTaskSlots": sizing.slots,
        "taskmanager.memory.process.size": sizing.taskmanager_process,
        "blob.server.port": ports["blob"],
        "rest.address": HOST,
        "rest.bind-address": HOST,
        "rest.port": ports["rest"],
        "parallelism.default": 1,
        "execution.checkpointing.interval": sizing.checkpoint_interval,
        "execution.checkpointing.dir": f"file://{home / 'checkpoints'}",
        "execution.checkpointing.savepoint-dir": f"file://{home / 'savepoints'}",
        "state.backend.type": "hashmap",
        # A TaskManager that died (a process fault) is dropped after 12 s, not 50 s, and
        # failed jobs retry within 5 s, not 1 min: recovery a test can wait for.
        "heartbeat.interval": 2000,
        "heartbeat.timeout": 12000,
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.max-backoff": "5 s",
        # The JobManager's metric fetcher waits this long on a dead TaskManager's metric
        # service before it fetches again (default 10 min: no job metrics meanwhile).
        "web.timeout": 30000,
        # A session runs hundreds of statements: keep at most 100 finished jobs, 10 MB of
        # them in memory, so the JobManager's heap does not fill up and GC all day.
        "jobstore.max-capacity": 100,
        "jobstore.cache-size": 10 * 1024 * 1024,
        # A TaskManager that starts before the JobManager retries after this delay
        # (default 10 s, which would double the cold start).
        "cluster.registration.error-delay": "500ms",
        "io.tmp.dirs": str(tmp / "io"),
        "web.tmpdir": str(tmp / "web"),
        "web.upload.dir": str(tmp / "upload"),
        "table.resources.download-dir": str(tmp / "resources"),
        "sql-gateway.endpoint.rest.address": HOST,
        "sql-gateway.endpoint.rest.bind-address": HOST,
        "sql-gateway.endpoint.rest.port": ports["gateway"],
        "sql-gateway.session.idle-timeout": "1h",
        # Job metrics (records read/written) refresh every second, not every 10 s, so
        # checks see statements progress.
        "metrics.fetcher.update-interval": 1000,
    }


class FlinkService(Service):
    """JobManager + TaskManager + SQL Gateway from the manifest's ``flink`` component."""

    name = "flink"

    def __init__(self, *, run_dir: Path, java: str, component_dir: Path,
                 sizing: FlinkSizing | None = None) -> None:
        self.java = java
        self.dist = component_dir / "dist"
        self.extra_libs = component_dir / "libs"
        self.sizing = sizing or FlinkSizing()
        self.home = run_dir / "flink"
        self.conf_dir = self.home / "conf"
        self.logs = run_dir / "logs"
        self.ports: dict[str, int] = {}
        self.processes_: dict[str, RunningProcess] = {}
        self._commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self._replaced_taskmanagers: set[str] = set()

    # -- classpath -----------------------------------------------------------------
    def _gateway_jar(self) -> Path:
        jars = sorted(self.extra_libs.glob("flink-sql-gateway-*.jar"))
        if not jars:
            raise ServiceStartError(self.name, f"no flink-sql-gateway jar in {self.extra_libs}; "
                                    "run `cutover install`")
        return jars[0]

    def classpath(self, *, gateway: bool = False) -> str:
        """lib/ jars and the manifest's jars, flink-dist last (as Flink's scripts order it)."""
        gateway_jar = self._gateway_jar()
        dist_jar = next(self.dist.glob("lib/flink-dist-*.jar"))
        jars = sorted(p for p in self.dist.glob("lib/*.jar") if p != dist_jar)
        jars += sorted(p for p in self.extra_libs.glob("*.jar") if p != gateway_jar)
        jars.append(dist_jar)
        if gateway:
            jars.append(gateway_jar)
        return ":".join(str(p) for p in jars)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        for key in ("rest", "jobmanager_rpc", "taskmanager_rpc", "taskmanager_data", "blob",
                    "gateway"):
            self.ports[key] = allocate_port(purpose=f"Flink {key.replace('_', ' ')}")
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        config = flink_config(home=self.home, ports=self.ports, sizing=self.sizing)
        # JSON is valid YAML: a flat config.yaml with dotted keys, as Flink 1.20 accepts.
        (self.conf_dir / "config.yaml").write_text(json.dumps(config, indent=1))
        (self.conf_dir / "log4j-console.properties").write_text(LOG4J2)
        (self.home / "tmp").mkdir(exist_ok=True)
        jm_jvm, jm_dyn = self._resource_params("GET_JM_RESOURCE_PARAMS")
        tm_jvm, tm_dyn = self._resource_params("GET_TM_RESOURCE_PARAMS")
        conf = ["--configDir", str(self.conf_dir)]
        self._spawn("jobmanager", jm_jvm, "org.apache.flink.runtime.entrypoint."
                    "StandaloneSessionClusterEntrypoint", [*conf, "--executionMode", "cluster",
                                                           *jm_dyn])
        self._spawn("taskmanager", tm_jvm, "org.apache.flink.runtime.taskexecutor."
                    "TaskManagerRunner", [*conf, *tm_dyn])
        self._spawn("sql-gateway", [f"-Xmx{self.sizing.gateway_heap}"],
                    "org.apache.flink.table.gateway.SqlGateway", [], gateway=True)

    def _common_jvm(self) -> list[str]:
        return [*JAVA_OPENS, f"-Djava.io.tmpdir={self.home / 'tmp'}", "-XX:-UsePerfData",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                f"-Dlog4j.configurationFile=file:{self.conf_dir / 'log4j-console.properties'}"]

    def _spawn(self, role: str, jvm: list[str], main: str, args: list[str], *,
               gateway: bool = False) -> None:
        argv = [self.java, *jvm, *self._common_jvm(), "-classpath",
                self.classpath(gateway=gateway), main, *args]
        env = {"FLINK_CONF_DIR": str(self.conf_dir), "FLINK_HOME": str(self.dist),
               "PATH": "/usr/bin:/bin"}
        self._commands[role] = (argv, env)
        self._launch(role)

    def _launch(self, role: str) -> RunningProcess:
        """Start ``role`` with the command line recorded for it."""
        argv, env = self._commands[role]
        self.processes_[role] = self.executor.spawn(
            f"flink-{role}", argv, log_path=self.logs / f"flink-{role}.log", env=env,
            cwd=self.home)
        return self.processes_[role]

    def running(self) -> dict[str, RunningProcess]:
        return {p.name: p for p in self.processes_.values()}

    def respawn(self, process: str) -> RunningProcess:
        role = process.removeprefix("flink-")
        if role not in self._commands:
            return super().respawn(process)
        if role == "taskmanager":  # ready again once a new one registered, not the dead one
            self._replaced_taskmanagers = self._taskmanager_ids()
        return self._launch(role)

    def _resource_params(self, what: str) -> tuple[list[str], list[str]]:
        """JVM and dynamic options for a process size, computed by Flink itself."""
        utils = self.dist / "bin" / "bash-java-utils.jar"
        dist_jar = next(self.dist.glob("lib/flink-dist-*.jar"))
        result = self.executor.run(
            [self.java, "-cp", f"{utils}:{dist_jar}",
             "org.apache.flink.runtime.util.bash.BashJavaUtils", what,
             "--configDir", str(self.conf_dir)], timeout=120)
        lines = [line.removeprefix(_RESULT_PREFIX) for line in result.stdout.splitlines()
                 if line.startswith(_RESULT_PREFIX)]
        if result.returncode != 0 or len(lines) < 2:
            raise ServiceStartError(self.name, f"Flink could not size its memory ({what})",
                                    log_tail=(result.stdout + result.stderr)[-3000:])
        return lines[-2].split(), lines[-1].split()

    def wait_ready(self, timeout_s: float) -> None:
        for role, check, log in (
            ("cluster", self._cluster_ready, "flink-taskmanager.log"),
            ("sql-gateway", self._gateway_ready, "flink-sql-gateway.log"),
        ):
            ReadinessProbe(f"{self.name} {role}", check, self._died,
                           log_path=self.logs / log, interval_s=0.3).wait(timeout_s)

    def _cluster_ready(self) -> str | None:
        try:
            overview = httpx.get(f"{self.endpoint().rest_url}/overview", timeout=2).json()
        except (httpx.HTTPError, ValueError) as exc:
            return f"REST API not answering ({type(exc).__name__})"
        if overview.get("taskmanagers", 0) < 1:
            return "no TaskManager registered yet"
        if self._replaced_taskmanagers:
            new = self._taskmanager_ids() - self._replaced_taskmanagers
            if not new:
                return "the restarted TaskManager has not registered yet"
        if overview.get("slots-total", 0) < self.sizing.slots:
            return f"{overview.get('slots-total')} of {self.sizing.slots} slots"
        return None

    def _taskmanager_ids(self) -> set[str]:
        try:
            listed = httpx.get(f"{self.endpoint().rest_url}/taskmanagers", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return set()
        return {str(tm.get("id")) for tm in listed.get("taskmanagers", [])}

    def _gateway_ready(self) -> str | None:
        try:
            response = httpx.get(f"{self.endpoint().sql_gateway_url}/v1/info", timeout=2)
        except httpx.HTTPError as exc:
            return f"SQL Gateway not answering ({type(exc).__name__})"
        return None if response.status_code == 200 else f"HTTP {response.status_code}"

    def _died(self) -> str | None:
        for role, process in self.processes_.items():
            if not process.alive():
                return f"the {role} JVM exited with code {process.exit_code()}"
        return None

    def stop(self) -> None:
        for role in ("sql-gateway", "taskmanager", "jobmanager"):
            if role in self.processes_:
                self.processes_[role].stop()

    def clean(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def endpoint(self) -> FlinkEndpoint:
        return FlinkEndpoint(self.name, f"http://{HOST}:{self.ports.get('rest', 0)}",
                             f"http://{HOST}:{self.ports.get('gateway', 0)}",
                             savepoint_dir=str(self.home / "savepoints"))

    def collect_logs(self, dest: Path) -> list[Path]:
        return [p.log_path for p in self.processes_.values() if p.log_path.exists()]

    def stats(self) -> dict[str, int]:
        per_role = {f"peak_rss_bytes_{role}": peak_rss_bytes(p.pid)
                    for role, p in self.processes_.items()}
        return {**per_role, "peak_rss_bytes": sum(per_role.values())}
