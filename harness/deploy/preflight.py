"""Flink's planner reads every statement of both refs before anything is deployed.

sqlglot reads the SQL to plan a release, but only Flink knows whether Flink accepts it:
an unknown column or function, a type that does not convert, a query whose columns do not
fit its sink. A refusal found half-way through a deploy leaves v1 half-started, so the
run asks first. In a throwaway SQL Gateway session it registers each table (a CREATE
TABLE only touches the session's catalog: no topic, no job) and asks ``EXPLAIN`` of each
statement, v1's and then the plan's new versions. Every refusal is reported with the file
and line Flink named, and nothing is deployed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.checks.result import CheckResult
from harness.deploy.flink import FlinkDeployer
from harness.errors import CutoverError
from harness.flink.gateway import SqlGatewaySession
from harness.pipeline.model import PipelineModel
from harness.pipeline.plan import ImpactPlan

# Calcite's position: "From line 3, column 8 to line 3, column 19: ..." or "at line 3, column 8"
_POSITION = re.compile(r"(?:[Ff]rom|at) line (\d+), column (\d+)")


@dataclass(frozen=True)
class PreflightProblem:
    """One statement Flink refused: which, of which ref, where, and Flink's reason."""

    statement: str
    version: str
    location: str
    message: str

    def line(self) -> str:
        return f"{self.location}: {self.statement} ({self.version}): {self.message}"


# name, adapted DDL, DML, the DML's file, its text as written, the DDL's file, its text
Row = tuple[str, str, str, Path | None, str, Path | None, str]


def preflight(session: SqlGatewaySession, v1: list[Row], v2: list[Row]) \
        -> list[PreflightProblem]:
    """Register and EXPLAIN the :data:`Row` of each table of v1, then of v2. The texts
    are the statements as written (before a v2 rename, before adaptation), to find the
    line Flink names in their files.

    A table whose DDL Flink refuses is reported, and its statement is not explained (the
    refusal would only repeat). Statements are explained in the order given (parents
    first), each after every table is registered.
    """
    problems: list[PreflightProblem] = []
    for version, statements in (("v1", v1), ("v2", v2)):
        refused: set[str] = set()
        for name, ddl, _, _, _, ddl_path, ddl_written in statements:
            if ddl and not _ok(session, ddl, name, version, ddl_path, problems, what="DDL",
                               text=ddl_written or ddl):
                refused.add(name)
        for name, _, dml, path, written, _, _ in statements:
            if dml and name not in refused:
                _ok(session, f"EXPLAIN {dml}", name, version, path, problems, what="DML",
                    text=written or dml)
    return problems


def _ok(session: SqlGatewaySession, sql: str, name: str, version: str, path: Path | None,
        problems: list[PreflightProblem], *, what: str, text: str | None = None) -> bool:
    try:
        session.execute(sql)
        return True
    except CutoverError as exc:
        message = getattr(exc, "flink_message", "") or str(exc)
        problems.append(PreflightProblem(name, version,
                                         _location(path, text or sql, message, what),
                                         message.strip().splitlines()[0][:400]))
        return False


def _location(path: Path | None, statement: str, message: str, what: str) -> str:
    """``file:line`` of the refusal: the statement's line Flink named, counted from where
    the statement sits in its file (the statement's own line when it is not found there)."""
    found = _POSITION.search(message)
    line = int(found.group(1)) if found else 1
    if path is None:
        return f"<{what} cutover inferred>:{line}" if what == "DDL" else \
            f"<{what} without a file>:{line}"
    try:
        text = Path(path).read_text()
    except OSError:
        text = ""
    offset = text.find(statement.strip())
    if offset >= 0:
        line += text[:offset].count("\n")
    return f"{path}:{line}"


def _file_of(model: PipelineModel, name: str) -> Path | None:
    """Where a table's statement is written: its DML's file, else its DDL's."""
    table = model.tables.get(name)
    if table is None:
        return None
    return table.dml_path if table.dml and table.dml_path else table.ddl_path


def _row(name: str, ddl: str, dml: str, model: PipelineModel, table: str) -> Row:
    """The row of statement ``name``, located in the files ``model`` has for ``table``."""
    written = model.tables.get(table)
    return (name, ddl, dml, _file_of(model, table), written.dml if written else "",
            written.ddl_path if written else None, written.ddl if written else "")


def statements_of(model: PipelineModel, ddl_of: dict[str, str]) -> list[Row]:
    """The rows of each table of ``model``, parents first."""
    return [_row(name, ddl_of.get(name, ""), model.tables[name].dml, model, name)
            for name in model.topological_order()]


def plan_statements(plan: ImpactPlan, ddl_of: dict[str, str], v2: PipelineModel) -> list[Row]:
    """The rows of the plan's new versions, located in the files of ``v2``."""
    return [_row(r.new_name, ddl_of.get(r.new_name, ""), r.dml, v2, r.table)
            for r in plan.redeploy]


def preflight_check(problems: list[PreflightProblem], *, statements: int) -> CheckResult:
    """The check a run records: Flink accepted every statement, or which it refused."""
    if not problems:
        return CheckResult("flink_accepts_sql", True,
                           f"Flink's planner accepted all {statements} statements and "
                           "tables of both refs (EXPLAIN in a throwaway session; nothing "
                           "deployed)", {"statements": statements})
    first = problems[0]
    return CheckResult(
        "flink_accepts_sql", False,
        f"Flink refuses {len(problems)} of {statements} statements and tables, so nothing "
        f"was deployed; first: {first.line()}. Fix the SQL at that line, or add what it "
        "reads (a column, a function, a table's DDL)",
        {"problems": [p.__dict__ for p in problems]})


def flink_accepts(deployer: FlinkDeployer, v1: PipelineModel, v2: PipelineModel,
                  plan: ImpactPlan, extra_ddl: dict[str, str]) -> CheckResult:
    """Ask Flink about every table and statement of v1 and of the plan's new versions,
    adapted as ``deployer`` will deploy them; the check says what it refused, if anything."""
    deployer.extra_ddl.update(extra_ddl)
    deployer.note_rowtime_readers(v1, plan)
    problems: list[PreflightProblem] = []

    def adapted(name: str, ddl: str, path: Path | None) -> str:
        try:
            return deployer.adapt(ddl).sql if ddl else ""
        except CutoverError as exc:
            problems.append(PreflightProblem(name, "DDL", f"{path}:1", str(exc)))
            return ""

    v1_ddl = {n: adapted(n, deployer.ddl_of(v1, n), v1.tables[n].ddl_path)
              for n in v1.topological_order()}
    v2_ddl = {r.new_name: adapted(r.new_name, r.ddl, v2.tables[r.table].ddl_path
                                  if r.table in v2.tables else None) for r in plan.redeploy}
    v1_rows, v2_rows = statements_of(v1, v1_ddl), plan_statements(plan, v2_ddl, v2)
    with SqlGatewaySession(deployer.gateway_url, name="cutover-preflight") as session:
        problems += preflight(session, v1_rows, v2_rows)
    return preflight_check(problems, statements=len(v1_rows) + len(v2_rows))
