"""A session on Flink's SQL Gateway (REST API v1): run statements, fetch results.

Statements that start a job (INSERT INTO ...) return its job id; DDL returns OK; queries
return rows. A rejected statement raises :class:`StatementError` with Flink's message,
and never leaves a job behind: Flink validates and plans before it submits anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.flink.errors import StatementError, root_message
from harness.flink.rest import TERMINAL, FlinkRestClient
from harness.flink.statement import Statement


@dataclass
class StatementResult:
    """What a finished operation returned."""

    kind: str  # SUCCESS, SUCCESS_WITH_CONTENT
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    job_id: str | None = None


class SqlGatewaySession:
    """One SQL Gateway session: its catalogs, SET options and temporary objects."""

    def __init__(self, gateway_url: str, *, properties: dict[str, str] | None = None,
                 name: str = "cutover", timeout_s: float = 60.0) -> None:
        self.http = httpx.Client(base_url=gateway_url.rstrip("/"), timeout=timeout_s)
        self.timeout_s = timeout_s
        response = self._post("/v1/sessions", {"sessionName": name,
                                               "properties": properties or {}})
        self.handle: str = response["sessionHandle"]
        self.statements: list[Statement] = []

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self._check(self.http.post(path, json=body), path)

    def _check(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            errors = response.json().get("errors", []) if response.content else []
            raise StatementError(f"SQL Gateway {what}", root_message(errors),
                                 detail="\n".join(errors))
        return response.json()

    def execute(self, sql: str, *, timeout_s: float | None = None) -> StatementResult:
        """Run one statement and wait for its result (for INSERT: until the job is submitted)."""
        operation = self._post(f"/v1/sessions/{self.handle}/statements",
                               {"statement": sql})["operationHandle"]
        base = f"/v1/sessions/{self.handle}/operations/{operation}"
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        result = StatementResult(kind="")
        uri: str | None = f"{base}/result/0?rowFormat=JSON"
        while uri:
            try:
                page = self._check(self.http.get(uri), f"statement {_short(sql)!r}")
            except StatementError as exc:
                raise StatementError(f"statement {_short(sql)!r} failed", exc.flink_message,
                                     detail=exc.detail) from None
            if page["resultType"] == "NOT_READY":
                if time.monotonic() > deadline:
                    self.http.delete(f"{base}/close")
                    raise StatementError(f"statement {_short(sql)!r}",
                                         f"no result within {timeout_s or self.timeout_s}s")
                time.sleep(0.1)
                continue
            _merge(result, page)
            uri = page.get("nextResultUri") if page["resultType"] != "EOS" else None
        return result

    def submit(self, statement: Statement, *, rest: FlinkRestClient | None = None,
               timeout_s: float = 60.0) -> Statement:
        """Start a statement's job; with ``rest``, wait until it is RUNNING (or FINISHED,
        which a bounded statement may reach first: see ``Statement.bounded``)."""
        result = self.execute(statement.sql, timeout_s=timeout_s)
        if not result.job_id:
            raise StatementError(f"statement {statement.name!r}",
                                 "it ran but started no job (is it an INSERT?)")
        statement.job_id = result.job_id
        statement.record("SUBMITTED")
        self.statements.append(statement)
        if rest is not None:
            wanted = {"RUNNING", "FINISHED"} if statement.bounded else {"RUNNING"}
            statement.record(rest.wait_for_state(result.job_id, wanted,
                                                 timeout_s=timeout_s))
        return statement

    def cancel_statements(self, rest: FlinkRestClient) -> list[str]:
        """Cancel the jobs of this session's statements that still run; returns their ids."""
        cancelled = []
        for statement in self.statements:
            if statement.job_id and rest.job(statement.job_id).state not in TERMINAL:
                rest.cancel(statement.job_id)
                statement.record("CANCELED")
                cancelled.append(statement.job_id)
        return cancelled

    def close(self) -> None:
        try:
            self.http.delete(f"/v1/sessions/{self.handle}")
        finally:
            self.http.close()

    def __enter__(self) -> SqlGatewaySession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _merge(result: StatementResult, page: dict[str, Any]) -> None:
    result.kind = page.get("resultKind", result.kind)
    result.job_id = page.get("jobID") or result.job_id
    results = page.get("results") or {}
    if results.get("columns") and not result.columns:
        result.columns = [c["name"] for c in results["columns"]]
    result.rows += [row["fields"] for row in results.get("data", [])]


def _short(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= 80 else flat[:77] + "..."
