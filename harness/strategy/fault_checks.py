"""Checks that only a fault makes meaningful: no record of an aborted transaction read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.checks.derive import expectation
from harness.checks.result import EXAMPLES, CheckResult
from harness.faults.base import FaultWindow

if TYPE_CHECKING:
    from harness.strategy.bluegreen import BlueGreenRun


def no_aborted_reads(run: BlueGreenRun, window: FaultWindow) -> CheckResult:
    """No table keyed by the faulted source's key holds a key of the aborted transaction.

    A consumer reading uncommitted records (``isolation.level=read_uncommitted``) passes
    them on; the broker aborted them, so they exist nowhere else.
    """
    source = str(window.evidence.get("table", ""))
    aborted = {str(k) for k in window.evidence.get("aborted_keys", [])}
    prepared = run.prepared
    tables: list[tuple[str, str, Any, Any]] = [
        (name, name, prepared.v1, prepared.lineage_v1) for name, table in
        prepared.v1.tables.items() if not table.is_external and table.ddl]
    tables += [(r.table, r.new_name, prepared.v2, prepared.lineage_v2)
               for r in prepared.plan.redeploy]
    checked: list[str] = []
    found: dict[str, list[str]] = {}
    for logical, physical, model, lineage in tables:
        expect = expectation(model, lineage, logical)
        if expect.expect_from != source:
            continue
        sink = run.reader.read(physical, prepared.ddl(logical, v2=physical != logical))
        column = expect.key[0]
        present = sorted(aborted & {str(row.get(column)) for row in sink.rows()})
        checked.append(physical)
        if present:
            found[physical] = present[:EXAMPLES]
    ok = bool(checked) and not found
    summary = (f"{len(found)} of {len(checked)} tables keyed by {source} hold records of "
               f"the aborted transaction" if checked else
               f"no table is keyed by {source}'s key: nothing to check the abort against")
    return CheckResult(f"no_aborted_reads({source})", ok, summary,
                       {"source": source, "aborted_keys": len(aborted), "tables": checked,
                        "aborted_keys_found": found,
                        "transactional_id": window.evidence.get("transactional_id")})


def fault_checks(run: BlueGreenRun) -> list[CheckResult]:
    """The checks the run's faults call for (none without faults)."""
    if run.faults is None:
        return []
    return [no_aborted_reads(run, w) for w in run.faults.runner.windows
            if "aborted_keys" in w.evidence]
