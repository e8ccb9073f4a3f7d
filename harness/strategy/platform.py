"""The platform of both runbooks as one run: PostgreSQL → Debezium → Kafka → Flink → Iceberg.

Application tables live in PostgreSQL (what a stable data tier reads); Debezium captures
each into the raw topic a data product's source statement reads; the product's statements
run on Flink; chosen tables are materialized as Iceberg upsert tables (what the canary data
tier reads). :meth:`Platform.gate` compares a PostgreSQL relation with its Iceberg table at
a source LSN (:mod:`harness.parity`), the check a canary runs before any traffic moves.

Usable from a plain script::

    parts = parts_on_stack(stack, topic_prefix=..., iceberg_database=..., ...)
    platform = Platform(model=load_pipeline(folder), captures=[Capture(...)], parts=parts,
                        schema=..., name=..., sink_tables=("fct_x",))
    with platform:
        platform.writes("orders", rows).start()
        gate = platform.gate([platform.parity("x", relation="v_x", table="fct_x",
                                              key=["id"])], hold=["orders"])
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

from harness.cdc.connect import ConnectClient
from harness.cdc.debezium import drop_slot, postgres_connector, replica_identity_full
from harness.cdc.evolution import SchemaChange, evolve_source
from harness.cdc.pg_tables import run_in_schema
from harness.cdc.registry import SchemaRegistryClient
from harness.checks.result import CheckResult
from harness.data.postgres_writer import PostgresWriter
from harness.data.write_loop import WriteLoop
from harness.deploy.flink import FlinkDeployer
from harness.deploy.iceberg_sinks import IcebergSinks
from harness.errors import ConfigError
from harness.events import EventLog
from harness.flink.rest import FlinkRestClient
from harness.flink.settle import Settler
from harness.parity import IcebergSide, ParityCheck, parity_check, parity_gate
from harness.pipeline.dialect import KafkaTarget
from harness.pipeline.gitrefs import changed_tables_between
from harness.pipeline.model import PipelineModel
from harness.pipeline.plan import ImpactPlan, plan_change
from harness.stack.endpoint import PostgresEndpoint, SchemaRegistryEndpoint
from harness.strategy.serving import ServingMap
from harness.wait import WaitTimeout


@dataclass(frozen=True)
class Capture:
    """A PostgreSQL application table captured into the raw table ``raw`` of the product.

    ``ddl`` is its CREATE TABLE with ``{table}`` for the qualified name; ``key`` its
    primary key column.
    """

    table: str
    raw: str
    ddl: str
    key: str


@dataclass
class PlatformParts:
    """The stack services a platform uses (endpoints and clients of one stack)."""

    postgres: PostgresEndpoint
    registry: SchemaRegistryEndpoint
    connect: ConnectClient
    deployer: FlinkDeployer
    rest: FlinkRestClient
    sinks: IcebergSinks
    events: EventLog


def parts_on_stack(stack: Any, *, topic_prefix: str, iceberg_database: str,
                   flink_rest: FlinkRestClient, events: EventLog, workdir: Path) -> PlatformParts:
    """The parts of a started stack (postgres, registry, connect, flink, iceberg), for one
    namespace: its topic prefix and Iceberg database; the serving map in ``workdir``."""
    registry, flink = stack.endpoint("registry"), stack.endpoint("flink")
    target = KafkaTarget(bootstrap_servers=stack.endpoint("kafka").bootstrap_servers,
                         topic_prefix=topic_prefix, group_prefix=topic_prefix,
                         schema_registry_url=registry.ccompat_url)
    deployer = FlinkDeployer(gateway_url=flink.sql_gateway_url, rest=flink_rest, target=target,
                             events=events, savepoint_dir=flink.savepoint_dir,
                             serving=ServingMap(Path(workdir) / "serving.json",
                                                topic_prefix=topic_prefix))
    return PlatformParts(stack.endpoint("postgres"), registry,
                         ConnectClient(stack.endpoint("connect").url), deployer, flink_rest,
                         IcebergSinks(stack.endpoint("iceberg"), iceberg_database), events)


@dataclass
class Platform:
    """One product on one stack, in one namespace (``schema`` and ``name``)."""

    model: PipelineModel
    captures: Sequence[Capture]
    parts: PlatformParts
    schema: str
    name: str
    sink_tables: tuple[str, ...] = ()
    repo: Path | None = None  # the product's git checkout, for plans between refs
    settle_timeout_s: float = 60.0
    writers: dict[str, PostgresWriter] = field(default_factory=dict)
    loops: dict[str, WriteLoop] = field(default_factory=dict)
    connectors: list[str] = field(default_factory=list)

    def slot(self, capture: Capture) -> str:
        """The replication slot of ``capture``: ``[a-z0-9_]``, at most 63 characters."""
        name = re.sub(r"[^a-z0-9_]", "_", f"slot_{self.name}_{capture.table}".lower())
        if len(name) <= 63:
            return name
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        return f"{name[:54]}_{digest}"

    def start(self) -> Platform:
        """Create the tables, start capturing them, deploy the statements and the sinks."""
        p = self.parts
        with psycopg.connect(p.postgres.dsn, autocommit=True) as conn:
            for capture in self.captures:
                if capture.ddl:  # "" when the table exists (created from the user's file)
                    conn.execute(capture.ddl.format(
                        table=f'"{self.schema}"."{capture.table}"').encode())
                conn.execute(replica_identity_full(self.schema, capture.table).encode())
        for capture in self.captures:
            connector = self.connector(capture.table)
            p.connect.put(connector, postgres_connector(
                postgres=p.postgres, registry=p.registry,
                topic_prefix=p.deployer.topic("cdc"), tables=[f"{self.schema}.{capture.table}"],
                slot=self.slot(capture), route_to=p.deployer.topic(capture.raw)))
            self.connectors.append(connector)
            self.writers[capture.table] = PostgresWriter(p.postgres.dsn, self.schema,
                                                         capture.table, key=capture.key)
        p.deployer.deploy(self.model)
        if self.sink_tables:
            p.deployer.deploy_sinks(self.model, {t: p.deployer.ddl_of(self.model, t)
                                                 for t in self.sink_tables}, p.sinks)
        p.events.emit("platform.started", tables=[c.table for c in self.captures],
                      statements=sorted(p.deployer.statements), sinks=list(self.sink_tables))
        return self

    def writes(self, table: str, rows: Callable[[int], list[dict[str, Any]]], *,
               interval_s: float = 0.2) -> WriteLoop:
        """Background writes into ``table``: ``rows(n)`` gives the n-th batch."""
        loop = self.loops[table] = WriteLoop(self.writers[table], rows, interval_s=interval_s)
        return loop

    def connector(self, table: str) -> str:
        """The Debezium connector capturing ``table``."""
        return f"{self.name}-{table}"

    def evolve(self, table: str, migration: str, write_rows: Callable[[], None], *,
               what: str = "the migration",
               before_registry: Callable[[], None] = lambda: None) -> SchemaChange:
        """Migrate ``table`` (SQL run in the namespace's schema) under FULL_TRANSITIVE:
        returns once the registry accepted the new value schema of its raw topic.

        Raises:
            SchemaEvolutionRejected: The registry refused it; nothing else is deployed.
        """
        capture = next(c for c in self.captures if c.table == table)
        registry = SchemaRegistryClient(self.parts.registry.ccompat_url)
        try:
            return evolve_source(
                alter=lambda: run_in_schema(self.parts.postgres.dsn, self.schema, migration,
                                            what=what),
                write_rows=lambda: _then(write_rows, before_registry), registry=registry,
                subject=self.value_subject(capture.raw), connect=self.parts.connect,
                connector=self.connector(table), events=self.parts.events)
        finally:
            registry.close()

    def value_subject(self, raw: str) -> str:
        return f"{self.parts.deployer.topic(raw)}-value"

    def iceberg(self, table: str) -> IcebergSide:
        """The Iceberg sink serving logical ``table`` now (the serving map's version)."""
        physical = self.parts.deployer.serving.serving(table)
        return IcebergSide(self.parts.sinks.endpoint, self.parts.sinks.identifier(physical))

    # -- blue/green of the platform's statements ----------------------------------------
    def plan_to(self, ref: str, *, base: str = "main") -> tuple[PipelineModel, ImpactPlan]:
        """The model at ``ref`` and the plan from ``base`` to it (changed statements and
        every descendant as ``_v2``)."""
        if self.repo is None:
            raise ConfigError("the platform has no repo= (its git checkout); a plan between "
                              "refs needs one")
        model, changed = changed_tables_between(self.repo / "pipelines", base, ref)
        plan = plan_change(model, changed)
        self.parts.events.emit("plan", **plan.to_json())
        return model, plan

    def deploy_change(self, model: PipelineModel, plan: ImpactPlan) -> None:
        """Deploy the plan's new versions beside the running ones, with the Iceberg sinks
        of the redeployed sink tables (``<table>_v2``); consumers still read v1."""
        deployer = self.parts.deployer
        deployer.deploy_plan(model, plan)
        chosen = {r.new_name: r.ddl for r in plan.redeploy if r.table in self.sink_tables}
        if chosen:
            deployer.deploy_sinks(model, chosen, self.parts.sinks)
        self.parts.events.emit("platform.change_deployed",
                               redeploy=[r.new_name for r in plan.redeploy],
                               sinks=sorted(chosen))

    def promote(self, plan: ImpactPlan) -> None:
        """Switch consumers (the serving map the data tier reads) to the new versions,
        once each holds the keys its old version holds. The background writes pause
        for that comparison (new keys arrive all the time otherwise)."""
        with self.writes_held():
            self.parts.deployer.promote(plan)

    @contextmanager
    def writes_held(self, tables: Sequence[str] | None = None) -> Iterator[None]:
        """The background write loops of ``tables`` (default: all) paused in the block."""
        with ExitStack() as held:
            for table, loop in self.loops.items():
                if tables is None or table in tables:
                    held.enter_context(loop.held())
            yield

    def rollback(self, plan: ImpactPlan, model: PipelineModel) -> None:
        """Consumers back on v1 (resumed from savepoints after a promotion); the new
        versions and their sinks stop. ``model`` is v1's."""
        deployer = self.parts.deployer
        deployer.rollback(plan, model=model)
        for step in plan.redeploy:
            sink = IcebergSinks.statement(step.new_name)
            if sink in deployer.statements:
                deployer.stop(sink)

    def settle(self, timeout_s: float | None = None) -> str | None:
        """Wait until every statement consumed its input and the sinks committed it;
        None, or why not (a stopped statement, a timeout). Inputs must hold still for a
        moment, so hold the writes meanwhile (:meth:`WriteLoop.held`)."""
        p = self.parts
        jobs = {n: s.job_id or "" for n, s in p.deployer.statements.items()}
        try:
            with Settler(p.rest, p.deployer.target.bootstrap_servers) as settler:
                settler.wait(jobs, timeout_s=timeout_s or self.settle_timeout_s)
                wanted = IcebergSinks.checkpoints_to_commit(jobs, settler.proven_checkpoint)
            if wanted:
                p.sinks.wait_committed(wanted)
        except WaitTimeout as exc:
            return str(exc).splitlines()[0]
        return None

    def parity(self, name: str, *, relation: str, table: str, key: Sequence[str],
               columns: Sequence[str] = (), budget_s: float = 30.0) -> ParityCheck:
        """The parity of PostgreSQL relation ``relation`` (a table or view of the
        namespace's schema) and the Iceberg sink of ``table``."""
        side = self.iceberg(table)
        return parity_check(name, dsn=self.parts.postgres.dsn,
                            relation=f"{self.schema}.{relation}", iceberg=side.endpoint,
                            table=side.identifier, key=key, columns=columns,
                            budget_s=budget_s)

    def gate(self, checks: Sequence[ParityCheck], *, hold: Sequence[str] = (),
             progress: Callable[[str], None] = lambda _m: None) -> Callable[[], CheckResult]:
        """A canary gate: every check must pass; the writes of ``hold`` pause meanwhile
        (an aggregate of a table written every moment never holds still)."""
        inner = parity_gate(list(checks), settle=self.settle, progress=progress,
                            hold=lambda: self.writes_held(hold))

        def gate() -> CheckResult:
            result = inner()
            self.parts.events.emit("parity", name=result.name, ok=result.ok,
                                   summary=result.summary,
                                   rounds=result.evidence.get("rounds"),
                                   seconds=result.evidence.get("seconds"))
            return result
        return gate

    def close_parts(self) -> None:
        """Close the clients the parts hold (after :meth:`close`)."""
        self.parts.sinks.close()
        self.parts.connect.close()

    def close(self) -> None:
        """Stop writes, statements and connectors, close writers, drop the slots: every
        step runs even when one fails (a leftover slot pins WAL on the shared server);
        the first failure is raised at the end."""
        p = self.parts
        steps: list[Callable[[], Any]] = [loop.stop for loop in self.loops.values()]
        steps.append(p.deployer.stop_all)
        steps += [partial(p.connect.delete, c) for c in self.connectors]
        steps += [w.close for w in self.writers.values()]
        steps += [partial(drop_slot, p.postgres.dsn, self.slot(c)) for c in self.captures]
        failures: list[BaseException] = []
        for step in steps:
            try:
                step()
            except Exception as exc:  # the others still run
                failures.append(exc)
        if failures:
            raise failures[0]

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _then(first: Callable[[], None], second: Callable[[], None]) -> None:
    first()
    second()
