"""FlinkDeployer: deploy a data product, deploy an impact plan beside it, promote, roll back.

Blue/green of Flink statements as the runbook describes it: a changed statement and its
descendants run as new versions (``x_v2``) writing new tables (topics), while the green
statements keep running untouched. Promotion switches consumers to the new versions and
stops the old ones once the new ones have caught up; rollback stops the new versions and
drops their tables, leaving the old ones serving. Every step is an event.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from harness.deploy.iceberg_sinks import IcebergSinks
from harness.errors import CutoverError
from harness.events import EventLog
from harness.flink.gateway import SqlGatewaySession
from harness.flink.rest import TERMINAL, FlinkRestClient
from harness.flink.statement import Statement
from harness.pipeline.dialect import AdaptedDdl, KafkaTarget, adapt_ddl_detailed, with_rowtime
from harness.pipeline.model import PipelineModel
from harness.pipeline.plan import ImpactPlan, Redeploy
from harness.readers import read_topic
from harness.strategy.serving import ServingMap
from harness.wait import wait_until


class DeployError(CutoverError):
    """A deployment step failed; nothing after it was attempted."""


class FlinkDeployer:
    """Deploys statements through the SQL Gateway into a Kafka topic namespace."""

    def __init__(self, *, gateway_url: str, rest: FlinkRestClient, target: KafkaTarget,
                 events: EventLog, submit_timeout_s: float = 120.0,
                 serving: ServingMap | None = None, savepoint_dir: str = "") -> None:
        self.gateway_url, self.rest, self.target = gateway_url, rest, target
        self.events = events
        self.submit_timeout_s = submit_timeout_s
        self.admin = AdminClient({"bootstrap.servers": target.bootstrap_servers})
        self.statements: dict[str, Statement] = {}  # by versioned table name
        self.serving = serving or ServingMap(Path(_scratch_dir()) / "serving.json",
                                             topic_prefix=target.topic_prefix)
        self.savepoint_dir = savepoint_dir  # where promotion keeps the stopped v1 states
        self.savepoints: dict[str, str] = {}  # statement -> savepoint of its stop
        self.extra_ddl: dict[str, str] = {}  # generated DDL of externals the project lacks
        self.rowtime_tables: set[str] = set()

    @property
    def active(self) -> dict[str, str]:
        """Logical table -> the version consumers read (from the serving map file)."""
        return self.serving.tables()

    def ddl_of(self, model: PipelineModel, name: str) -> str:
        return model.tables[name].ddl or self.extra_ddl.get(name, "")

    def _adapted_tables(self, model: PipelineModel) -> list[AdaptedDdl]:
        """Every table of ``model`` that has a DDL, adapted, parents first."""
        return [self.adapt(self.ddl_of(model, n)) for n in model.topological_order()
                if self.ddl_of(model, n)]

    # -- tables ------------------------------------------------------------------------
    def adapt(self, ddl: str) -> AdaptedDdl:
        adapted = adapt_ddl_detailed(ddl, self.target)
        if adapted.table in self.rowtime_tables:
            return replace(adapted, sql=with_rowtime(adapted.sql))
        return adapted

    def note_rowtime_readers(self, model: PipelineModel,
                             plan: ImpactPlan | None = None) -> None:
        """Tables some statement reads ``$rowtime`` of (Confluent's record timestamp): their
        adapted DDL declares it as a metadata column."""
        dmls = [t for t in model.tables.values() if "$rowtime" in t.dml]
        for table in dmls:
            self.rowtime_tables.update(table.parents)
        for step in plan.redeploy if plan else []:
            if "$rowtime" in step.dml:
                self.rowtime_tables.update(step.parents)

    def topic(self, table: str) -> str:
        return self.target.topic_prefix + table

    def _create_topics(self, adapted: list[AdaptedDdl]) -> None:
        existing = set(self.admin.list_topics(timeout=10).topics)
        new = [NewTopic(a.topic, a.partitions or 1, 1) for a in adapted
               if a.topic and a.topic not in existing]
        for topic, future in self.admin.create_topics(new, operation_timeout=30).items():
            future.result(timeout=30)
            self.events.emit("topic_created", topic=topic)

    def _register(self, session: SqlGatewaySession, adapted: list[AdaptedDdl]) -> None:
        for table in adapted:
            session.execute(table.sql)

    # -- deploy ------------------------------------------------------------------------
    def deploy(self, model: PipelineModel, *,
               extra_ddl: Mapping[str, str] | None = None) -> dict[str, Statement]:
        """Deploy every statement of the data product, parents first.

        ``extra_ddl`` gives a CREATE TABLE for external tables the project has no DDL for
        (Confluent Cloud projects keep the raw topic's schema in the registry).
        """
        self.extra_ddl.update(extra_ddl or {})
        self.note_rowtime_readers(model)
        order = model.topological_order()
        missing = [n for n in order if not self.ddl_of(model, n)]
        if missing:
            files = ", ".join(str(model.tables[n].dml_path or n) for n in missing[:3])
            raise DeployError(f"no DDL for {missing} (read by {files}); add a CREATE TABLE "
                              "for each, or let cutover infer it from the statements")
        adapted = [self.adapt(self.ddl_of(model, n)) for n in order]
        self._create_topics(adapted)
        started = {}
        with self._session("deploy") as session:
            self._register(session, adapted)
            for name in order:
                table = model.tables[name]
                if table.dml:
                    started[name] = self._submit(session, name, table.dml, version="v1",
                                                 bounded=not table.parents)
        self.serving.set({n: n for n in order if n not in model.external}, reason="deployed")
        return started

    def deploy_plan(self, model: PipelineModel, plan: ImpactPlan) -> dict[str, Statement]:
        """Start the plan's new versions beside the running ones, in dependency order."""
        self.events.emit("plan_deploy_started", redeploy=[r.new_name for r in plan.redeploy],
                         unchanged=list(plan.unchanged))
        self.note_rowtime_readers(model, plan)
        current = self._adapted_tables(model)
        new = [self.adapt(r.ddl) for r in plan.redeploy]
        self._create_topics(new)
        started = {}
        with self._session("deploy-plan") as session:
            self._register(session, current + new)
            for step in plan.redeploy:
                started[step.new_name] = self._submit(session, step.new_name, step.dml,
                                                      bounded=not step.parents,
                                                      version=step.new_name, reason=step.reason)
        self.events.emit("plan_deployed", statements={n: s.job_id for n, s in started.items()})
        return started

    def _submit(self, session: SqlGatewaySession, name: str, dml: str, *,
                bounded: bool = False, **details: Any) -> Statement:
        statement = Statement(name, dml, bounded=bounded)
        try:
            session.submit(statement, rest=self.rest, timeout_s=self.submit_timeout_s)
        except CutoverError as exc:
            self.events.emit("statement_failed", statement=name, error=str(exc))
            raise DeployError(f"statement {name} did not start: {exc}") from exc
        self.statements[name] = statement
        self.events.emit("statement_running", statement=name, job_id=statement.job_id,
                         **details)
        return statement

    def submit(self, model: PipelineModel, name: str, **details: Any) -> Statement:
        """Start one statement of ``model`` (its tables registered in a fresh session)."""
        current = self._adapted_tables(model)
        with self._session("submit") as session:
            self._register(session, current)
            return self._submit(session, name, model.tables[name].dml,
                                bounded=not model.tables[name].parents, **details)

    def deploy_sinks(self, model: PipelineModel, tables: Mapping[str, str],
                     sinks: IcebergSinks) -> dict[str, Statement]:
        """Create the Iceberg sink of each ``physical table -> its DDL`` and start the
        statement that fills it (``sink_<table>``), reading the Kafka table from the start."""
        current = self._adapted_tables(model)
        current += [self.adapt(ddl) for name, ddl in tables.items() if name not in model.tables]
        started = {}
        with self._session("sinks") as session:
            session.execute(sinks.endpoint.flink_catalog_sql())
            self._register(session, current)
            for table, ddl in tables.items():
                session.execute(sinks.create_sql(table, ddl))
                started[sinks.statement(table)] = self._submit(
                    session, sinks.statement(table), sinks.insert_sql(table, ddl),
                    version="sink", iceberg=sinks.identifier(table))
        return started

    def _session(self, purpose: str) -> SqlGatewaySession:
        return SqlGatewaySession(self.gateway_url, name=f"cutover-{purpose}")

    # -- promote / rollback ------------------------------------------------------------
    def promote(self, plan: ImpactPlan, *, caught_up: Callable[[Redeploy], str | None] | None
                = None, timeout_s: float = 120.0) -> None:
        """Switch consumers to the new versions, then stop the old ones.

        ``caught_up(step)`` returns None once the new version holds what the old one does
        (default: the same keys in both tables), or a reason to keep waiting. With a
        ``savepoint_dir``, the old versions stop with a savepoint (kept in
        :attr:`savepoints`), so a rollback after promotion resumes them where they stopped.
        """
        check = caught_up or self.same_keys
        for step in plan.redeploy:
            wait_until(lambda s=step: check(s), timeout_s=timeout_s,  # type: ignore[misc]
                       what=f"{step.new_name} caught up with "
                       f"{self.active.get(step.table, step.table)}")
        switches = {step.table: step.new_name for step in plan.redeploy}
        old = {t: self.active.get(t, t) for t in switches}
        self.serving.set(switches, reason="promoted")
        for table, new in switches.items():
            self.events.emit("consumers_switched", table=table, old=old[table], new=new)
        for step in reversed(plan.redeploy):
            if step.table in self.statements and step.new_name != step.table:
                self._retire(step.table)
        self.events.emit("promoted", active=self.active, savepoints=dict(self.savepoints))

    def _retire(self, name: str) -> None:
        statement = self.statements[name]
        if statement.bounded and self.rest.job(statement.job_id or "").state == "FINISHED":
            # a bounded statement that ended: nothing to stop, and its table keeps what it
            # wrote, so a rollback switches back to it without resuming anything
            self.events.emit("statement_finished", statement=name, job_id=statement.job_id)
            return
        if not self.savepoint_dir or not statement.job_id:
            self.stop(name)
            return
        location = self.rest.stop_with_savepoint(statement.job_id, self.savepoint_dir)
        self.savepoints[name] = location
        self.statements.pop(name)
        statement.record("FINISHED")
        self.events.emit("statement_stopped", statement=name, job_id=statement.job_id,
                         savepoint=location)

    def rollback(self, plan: ImpactPlan, *, model: PipelineModel | None = None) -> None:
        """Stop the new versions and drop their tables; the old versions keep serving.

        After a promotion, the old versions are first resumed from their savepoints
        (``model`` gives their SQL) and consumers switched back to them.
        """
        self.events.emit("rollback_started", redeploy=[r.new_name for r in plan.redeploy])
        resumed = [r.table for r in plan.redeploy if r.table in self.savepoints]
        if resumed:
            if model is None:
                raise DeployError("rolling back after promotion needs the v1 model to resume "
                                  f"{resumed} from their savepoints")
            self.resume(model, resumed)
        self.serving.set({r.table: r.table for r in plan.redeploy}, reason="rolled back")
        for step in reversed(plan.redeploy):
            if step.new_name in self.statements:
                self.stop(step.new_name)
        topics = [self.topic(r.new_name) for r in plan.redeploy]
        self._delete_topics(topics)
        self.events.emit("rolled_back", dropped_topics=topics, active=self.active)

    def resume(self, model: PipelineModel, names: list[str]) -> dict[str, Statement]:
        """Start stopped statements again from their savepoints, parents first."""
        order = [n for n in model.topological_order() if n in names]
        current = self._adapted_tables(model)
        started = {}
        with self._session("resume") as session:
            self._register(session, current)
            for name in order:
                savepoint = self.savepoints.pop(name)
                session.execute(f"SET 'execution.savepoint.path' = '{savepoint}'")
                started[name] = self._submit(session, name, model.tables[name].dml,
                                             bounded=not model.tables[name].parents,
                                             version="v1", resumed_from=savepoint)
                session.execute("RESET 'execution.savepoint.path'")
        return started

    def stop(self, name: str) -> None:
        """Cancel a statement's job and wait until it is gone."""
        statement = self.statements.pop(name)
        if statement.job_id and self.rest.job(statement.job_id).state not in TERMINAL:
            self.rest.cancel(statement.job_id)
        statement.record("CANCELED")
        self.events.emit("statement_stopped", statement=name, job_id=statement.job_id)

    def stop_all(self) -> None:
        """Cancel every statement this deployer started, all at once, then wait."""
        running = {name: s for name, s in self.statements.items()
                   if s.job_id and self.rest.job(s.job_id).state not in TERMINAL}
        for statement in running.values():
            self.rest.cancel(statement.job_id or "", wait=False)
        for name, statement in running.items():
            self.rest.wait_for_state(statement.job_id or "", {"CANCELED"})
            statement.record("CANCELED")
            self.events.emit("statement_stopped", statement=name, job_id=statement.job_id)
        self.statements.clear()

    def _delete_topics(self, topics: list[str]) -> None:
        existing = set(self.admin.list_topics(timeout=10).topics)
        doomed = [t for t in topics if t in existing]
        if doomed:
            for future in self.admin.delete_topics(doomed, operation_timeout=30).values():
                future.result(timeout=30)
        wait_until(lambda: self._still_listed(doomed), timeout_s=30,
                   what=f"topics {doomed} deleted")
        for topic in doomed:
            self.events.emit("topic_deleted", topic=topic)

    def _still_listed(self, topics: list[str]) -> str | None:
        left = set(topics) & set(self.admin.list_topics(timeout=10).topics)
        return f"still listed: {sorted(left)}" if left else None

    # -- reading -----------------------------------------------------------------------
    def rows(self, table: str) -> list[dict[str, Any]]:
        """Live rows of a table (a versioned name) under upsert semantics."""
        snapshot = read_topic(self.target.bootstrap_servers, self.topic(table))
        return list(snapshot.upsert_view().values())

    def serving_rows(self, table: str) -> list[dict[str, Any]]:
        """Rows of the version consumers read now."""
        return self.rows(self.active.get(table, table))

    def same_keys(self, step: Redeploy) -> str | None:
        old = self.active.get(step.table, step.table)
        old_keys = set(read_topic(self.target.bootstrap_servers,
                                  self.topic(old)).upsert_view())
        new_keys = set(read_topic(self.target.bootstrap_servers,
                                  self.topic(step.new_name)).upsert_view())
        if old_keys == new_keys and new_keys:
            return None
        return f"{len(new_keys)} keys in {step.new_name}, {len(old_keys)} in {old}"


def _scratch_dir() -> str:
    return tempfile.mkdtemp(prefix="cutover-serving-")
