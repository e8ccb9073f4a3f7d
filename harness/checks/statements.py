"""Watching running statements: green ones must stay untouched through a deployment."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

from harness.checks.result import EXAMPLES, CheckResult
from harness.flink.rest import FlinkRestClient
from harness.flink.statement import Statement


@dataclass(frozen=True)
class JobSample:
    """What the JobManager said about one statement's job at one moment."""

    ts: float
    statement: str
    job_id: str
    state: str
    restarts: int
    records: int  # records its sources have read: grows while its inputs advance


class StatementWatcher:
    """Samples statements' jobs every ``interval_s`` in a background thread."""

    def __init__(self, rest: FlinkRestClient, statements: list[Statement], *,
                 interval_s: float = 1.0) -> None:
        self.rest, self.interval_s = rest, interval_s
        self.statements = {s.name: s.job_id or "" for s in statements}
        self.samples: list[JobSample] = []
        self.failed_samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="statement-watcher",
                                        daemon=True)

    def sample(self) -> list[JobSample]:
        now = time.time()
        taken = []
        for name, job_id in self.statements.items():
            job = self.rest.job(job_id)
            taken.append(JobSample(now, name, job.job_id, job.state,
                                   self.rest.restarts(job_id), self.rest.records_read(job_id)))
        self.samples.extend(taken)
        return taken

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except Exception:  # a JobManager busy recovering: the next sample tells
                self.failed_samples += 1

    def __enter__(self) -> StatementWatcher:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.sample()


def green_untouched(samples: list[JobSample], expected_jobs: dict[str, str], *,
                    excused: Sequence[tuple[float, float]] = (),
                    unfed: Collection[str] = ()) -> CheckResult:
    """Same job ids, RUNNING in every sample, no restarts, record counts kept advancing.

    A statement FINISHED in every sample is a bounded one that had ended before the
    deployment began: untouched. One that was RUNNING and FINISHED later is not: a
    stop with a savepoint ends a job FINISHED too. The statements in ``unfed`` read
    nothing that was written during the watch, so their counts need not advance.

    ``excused`` are (start, end) times of injected faults: a restart, a state other than
    RUNNING or a record count reset (a job restored from its checkpoint) seen then is the
    fault's doing and reported as excused, not as the deployment touching the statement.
    The job id, the state of the last sample and the advance of the count still count.
    """
    problems: list[str] = []
    excused_seen: list[str] = []
    by_statement: dict[str, list[JobSample]] = {}
    for sample in samples:
        by_statement.setdefault(sample.statement, []).append(sample)

    def during_fault(sample: JobSample) -> bool:
        return any(start <= sample.ts <= end for start, end in excused)

    for name, job_id in expected_jobs.items():
        seen = by_statement.get(name, [])
        if len(seen) < 2:
            problems.append(f"{name}: only {len(seen)} samples")
            continue
        problems += [f"{name}: job {s.job_id} != {job_id}" for s in seen if s.job_id != job_id]
        if all(s.state == "FINISHED" for s in seen):
            continue  # a bounded statement that had ended before the deployment began
        for s in seen:
            if s.state == "FINISHED" and s is seen[-1]:
                problems.append(f"{name}: FINISHED at {s.ts:.1f}, RUNNING when the "
                                "deployment began (stopped by it, perhaps with a savepoint)")
            elif s.state != "RUNNING":
                (excused_seen if during_fault(s) and s is not seen[-1] else problems).append(
                    f"{name}: {s.state} at {s.ts:.1f}")
        restarts = seen[0].restarts
        for before, after in pairwise(seen):
            if after.restarts > before.restarts:
                (excused_seen if during_fault(after) else problems).append(
                    f"{name}: restarted ({after.restarts}) at {after.ts:.1f}")
        if restarts:  # a fault before the watch began may have caused them
            (excused_seen if any(start <= seen[0].ts for start, _ in excused)
             else problems).append(f"{name}: {restarts} restarts before the deployment")
        drops = [(a, b) for a, b in pairwise(seen) if b.records < a.records]
        for a, b in drops:
            (excused_seen if during_fault(b) else problems).append(
                f"{name}: record count went backwards {a.records} -> {b.records}")
        # After a reset the job reads on from its checkpoint; that it caught up is what
        # the settle before the checks proves, so only an unbroken count must advance.
        if not drops and seen[-1].records <= seen[0].records and name not in unfed:
            problems.append(f"{name}: record count did not advance ({seen[0].records})")
    return CheckResult(
        "green_untouched", not problems,
        f"{len(expected_jobs)} green statements, {len(problems)} problems"
        + (f", {len(excused_seen)} excused by injected faults" if excused_seen else ""),
        {"statements": sorted(expected_jobs), "samples": len(samples),
         "problems": problems[:EXAMPLES * 2], "excused_by_faults": excused_seen[:EXAMPLES * 2]})
