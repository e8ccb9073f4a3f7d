"""The runbook's ``statements-to-deploy.txt``: does it cover the impact plan?

``shift_left pipeline deploy --table-list-file-name FILE`` deploys the tables the file
lists, one a line. A list that misses a descendant of a changed statement leaves that
descendant reading the old version of its parent; a list that names an unchanged
statement restarts a green one. Both are found before anything is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.pipeline.errors import PipelineError
from harness.pipeline.model import PipelineModel
from harness.pipeline.plan import ImpactPlan


@dataclass(frozen=True)
class TableListCoverage:
    """What a table list misses and what it adds beyond the plan."""

    listed: list[str]
    missing: list[str]  # redeployed by the plan, not listed
    extra: list[str]  # listed, not redeployed by the plan (green statements)
    unknown: list[str]  # listed, no such table

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unknown)


def read_table_list(path: Path) -> list[str]:
    """Table names of a table list file: one a line; blank lines and ``#`` comments skipped.

    A line may hold a path or a dotted name; its last part is the table name.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise PipelineError(f"cannot read the table list {path}: {exc.strerror}; pass the "
                            "file given to shift_left's --table-list-file-name") from exc
    names = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip().strip(",")
        if entry:
            names.append(entry.replace("/", ".").split(".")[-1].strip("`"))
    return names


def check_coverage(listed: list[str], plan: ImpactPlan, model: PipelineModel) \
        -> TableListCoverage:
    """Compare a table list with the plan."""
    planned = [r.table for r in plan.redeploy]
    known = set(model.tables) | {r.new_name for r in plan.redeploy}
    names = set(listed) | {_base(n, plan) for n in listed}
    return TableListCoverage(
        listed=listed,
        missing=[t for t in planned if t not in names],
        extra=sorted({n for n in listed if n in model.tables and _base(n, plan) not in planned}),
        unknown=sorted(n for n in listed if n not in known))


def _base(name: str, plan: ImpactPlan) -> str:
    return next((r.table for r in plan.redeploy if r.new_name == name), name)


def require_coverage(coverage: TableListCoverage, path: Path, plan: ImpactPlan) -> None:
    """Raise naming every table the list misses (with why it must be there)."""
    if coverage.ok:
        return
    reasons = {r.table: r.reason for r in plan.redeploy}
    lines = [f"{t} ({reasons[t]})" for t in coverage.missing]
    parts = []
    if coverage.missing:
        parts.append(f"it misses {len(lines)} table(s) the change redeploys: "
                     + "; ".join(lines))
    if coverage.unknown:
        parts.append(f"it names tables the pipeline does not have: {coverage.unknown}")
    raise PipelineError(f"table list {path} does not cover the plan: {' and '.join(parts)}; "
                        "add the missing tables (one a line) so every descendant of a changed "
                        "statement moves to v2 with it")
