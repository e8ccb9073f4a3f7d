"""Checks that only a fault makes meaningful: no record of an aborted transaction read,
dead letters counted with the pipeline alive, no partial Iceberg commit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks.derive import expectation
from harness.checks.result import EXAMPLES, CheckResult
from harness.faults.base import FaultWindow
from harness.faults.data import undecodable

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


def no_partial_commits(run: BlueGreenRun) -> CheckResult:
    """Every data file the Iceberg sink tables' current snapshots reference exists, whole.

    A writer that ran out of space mid-file must not have committed that file: a commit
    lists each file with its size, so a short or missing file is a partial commit.
    """
    from harness.iceberg import committed_files  # pyiceberg is slow to import

    sinks = run.sinks
    if sinks is None:
        return CheckResult("no_partial_commits", False, "the run has no Iceberg sinks", {})
    broken: list[str] = []
    files = 0
    tables = list(sinks.catalog().list_tables(sinks.database))
    for identifier in tables:
        for name, committed in committed_files(sinks.catalog().load_table(identifier)):
            files += 1
            path = Path(name)
            size = path.stat().st_size if path.exists() else -1
            if size != committed:
                broken.append(f"{'.'.join(identifier)}: {path.name} is {size} bytes, "
                              f"committed as {committed}")
    return CheckResult("no_partial_commits", not broken and files > 0,
                       f"{len(broken)} of {files} committed data files short or missing in "
                       f"{len(tables)} Iceberg tables",
                       {"tables": ['.'.join(t) for t in tables], "files": files,
                        "broken": broken[:EXAMPLES]})


def dead_letters_counted(run: BlueGreenRun, window: FaultWindow) -> CheckResult:
    """The poison pills are in the source topic as dead letters, and every statement the
    run deployed still runs: the pipeline skipped them instead of dying on them."""
    topic = str(window.evidence.get("topic", ""))
    injected = int(window.evidence.get("poison_pills", 0))
    letters = undecodable(run.deployer.target.bootstrap_servers, topic)
    states = {name: run.rest.job(s.job_id).state for name, s in
              run.deployer.statements.items() if s.job_id}
    down = {name: state for name, state in states.items()
            if not run.deployer.statements[name].healthy_in(state)}
    ok = letters >= injected > 0 and not down
    return CheckResult(
        f"dead_letters_counted({window.evidence.get('table') or topic})", ok,
        f"{letters} dead letters in {topic} ({injected} injected); "
        f"{len(states) - len(down)} of {len(states)} statements running",
        {"topic": topic, "injected": injected, "dead_letters": letters, "not_running": down})


def fault_checks(run: BlueGreenRun) -> list[CheckResult]:
    """The checks the run's faults call for (none without faults)."""
    if run.faults is None:
        return []
    windows = run.faults.runner.windows
    checks = [no_aborted_reads(run, w) for w in windows if "aborted_keys" in w.evidence]
    checks += [dead_letters_counted(run, w) for w in windows if "poison_pills" in w.evidence]
    if run.sinks is not None and windows:  # any fault may have cut a commit short
        checks.append(no_partial_commits(run))
    return checks
