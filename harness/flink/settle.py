"""Settled data: every statement consumed all of its Kafka input and checkpointed it.

A job is *settled* when it is RUNNING with all tasks running, each Kafka partition its
sources read is consumed up to the partition's end offset now, no open transaction holds
records of those partitions back, and a checkpoint of the job COMPLETED that was
triggered after the pass that first saw it caught up (at those end offsets); or, for a
bounded statement (``INSERT ... VALUES``), when its job FINISHED: it wrote everything
and committed its sinks on its final checkpoint. (A streaming job that FINISHED was
stopped, and is not settled.) Sinks flush (at-least-once) or commit (exactly-once) on
checkpoint, so what a settled job read is in its sinks. :meth:`Settler.wait` repeats
passes up to a fixed point.

What the metrics mean, as probed on Flink 1.20.3 with connector 3.4.0-1.20:

- ``GET /jobs/<j>/vertices/<v>/metrics`` lists ``<subtask>.Source__<table>[<n>].
  KafkaSourceReader.topic.<topic>.partition.<p>.currentOffset`` (and ``committedOffset``)
  for each partition assigned to a subtask, with ``.`` in the topic replaced by ``_``
  (``probe.src`` -> ``probe_src``): names are matched to Kafka's topics in that form.
- ``currentOffset`` is the offset of the last record the reader EMITTED (set in the task
  thread), not the next to read: 5 records (offsets 0-4) gave 4. An empty or unread
  partition is reported too, as -1. ``committedOffset`` is the next offset as of a
  completed checkpoint (5), but it updates only when the commit callback runs in the
  next ``poll()`` (up to 10 s on an idle topic): only a lower bound of the position.
- Metric values are refreshed at most every second, asynchronously (27 s old after a
  quiet spell); end offsets are read before metrics, so staleness only delays settling.
- ``/jobs/<j>/checkpoints`` lags ~3 s behind the metric ``lastCompletedCheckpointId``: a
  checkpoint proves settling by its ``trigger_timestamp``, or by an id above the last
  completed id of a later job-metric snapshot with none in progress.
- Exactly-once topics end with commit markers (high watermark 6 for 5 records): "caught
  up" compares ``currentOffset + 1`` with the last stable offset (read_committed), and a
  gap without a visible record is caught up (:mod:`harness.flink.kafka_offsets`); high
  watermark > LSO is an open transaction. ``pendingRecords`` is per subtask: unused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from confluent_kafka import KafkaException

from harness.flink import kafka_offsets as ko
from harness.flink.errors import FlinkError
from harness.flink.rest import FlinkRestClient
from harness.flink.settle_hints import likely_fix
from harness.wait import WaitTimeout


@dataclass(frozen=True)
class SettleStatus:
    """One pass over the jobs: settled or not, why not, and how far behind each source is.

    Attributes:
        settled: Every job settled (and no output has an open transaction).
        reason: One line: why not settled yet, per job, or ``"settled"``.
        lag: Statement -> ``"topic[partition]"`` -> offsets from its position to the LSO.
        checked_at: ``time.time()`` at the end of the pass.
        waiting_on: Statement -> its blocker (``behind``, ``checkpoint``, ``not-running``...).
        positions: Statement name -> partition -> next offset its source reads (-1: none).
        end_offsets: Partition -> high watermark, as read at the start of the pass.
    """

    settled: bool
    reason: str
    lag: dict[str, dict[str, int]]
    checked_at: float
    waiting_on: dict[str, str] = field(default_factory=dict)
    positions: dict[str, dict[str, int]] = field(default_factory=dict)
    end_offsets: dict[str, int] = field(default_factory=dict)


DOWN_GRACE_S = 15.0  # a job not running this long (failed, restarting) ends the wait


class SettleTimeout(WaitTimeout):
    """The jobs did not settle in time; ``status`` is the last pass."""

    def __init__(self, message: str, status: SettleStatus) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Job:
    """What the settler remembers of one job between passes."""

    sources: list[tuple[str, str, ko.SourceMetric]] = field(default_factory=list)  # vid, id
    discovered_at: float = 0.0
    caught_up: tuple[float, tuple[tuple[ko.Key, int, int], ...]] | None = None  # when, ends
    watermark: int | None = None  # completed id at a metric snapshot after caught_up
    proven: bool = False  # a checkpoint triggered after caught_up completed
    checkpoint: tuple[int, int] = (-1, 0)  # best known completed: id, trigger ms
    proof: int = -1  # the completed checkpoint that proved it settled (Iceberg commits it)


class Settler:
    """Decides whether Flink jobs reading Kafka have settled, and waits until they have.

    Args:
        rest: The cluster's REST client (not closed by :meth:`close`).
        bootstrap_servers: Kafka, for end offsets and gap probes.
        offsets: Another source of Kafka offsets (tests); default :class:`KafkaOffsets`.
        probe_timeout_s: Longest time one pass spends probing gaps for records.
    """

    def __init__(self, rest: FlinkRestClient, bootstrap_servers: str, *,
                 offsets: ko.OffsetSource | None = None, probe_timeout_s: float = 2.0) -> None:
        self.rest = rest
        self.offsets = offsets if offsets is not None else ko.KafkaOffsets(bootstrap_servers)
        self.probe_timeout_s = probe_timeout_s
        self._jobs: dict[str, _Job] = {}
        self._empty: dict[tuple[ko.Key, int], int] = {}  # (partition, start) -> end, no record

    def __enter__(self) -> Settler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the Kafka clients (the REST client belongs to the caller)."""
        self.offsets.close()

    def proven_checkpoint(self, job_id: str) -> int:
        """Id of the checkpoint that proved ``job_id`` settled (-1 when none yet)."""
        job = self._jobs.get(job_id)
        return job.proof if job is not None and job.proven else -1

    def _get(self, path: str, **params: str) -> Any:
        return self.rest._request("GET", path, params=params or None)

    def status(self, jobs: Mapping[str, str], *, outputs: Iterable[str] = (),
               bounded: Collection[str] = ()) -> SettleStatus:
        """One pass over the jobs; remembers per job when it was first seen caught up.

        Args:
            jobs: Statement name -> Flink job id.
            outputs: Sink topics no job reads: an open transaction on one keeps the pass
                unsettled, and :meth:`wait` requires their end offsets to hold still.
            bounded: Statements that read no table: FINISHED is settled for them.

        Returns:
            The verdict of this pass, with the lag table.
        """
        overview = {j["jid"]: j for j in self._get("/jobs/overview")["jobs"]}
        topics = self.offsets.topics()
        blocked: dict[str, tuple[str, str]] = {}  # name -> (kind, reason)
        reads: dict[str, dict[ko.Key, list[tuple[str, str, ko.SourceMetric]]]] = {}
        for name, jid in jobs.items():
            job, mem = overview.get(jid), self._jobs.setdefault(jid, _Job())
            state, tasks = (job["state"], job["tasks"]) if job else ("unknown to the cluster", {})
            if state == "FINISHED" and name in bounded:
                pass  # it wrote everything and committed on its final checkpoint
            elif state != "RUNNING":
                blocked[name] = ("not-running", f"{name} (job {jid}) is {state}")
            elif tasks.get("running") != tasks.get("total"):
                blocked[name] = ("tasks", f"{name}: {tasks.get('running')}/"
                                          f"{tasks.get('total')} tasks running")
            elif not (parts := self._reads(jid, mem, topics, name, blocked)):
                blocked.setdefault(name, ("no-source-metrics",
                                          f"{name}: no Kafka source metrics yet"))
            else:
                reads[name] = parts
            if name not in reads:
                mem.caught_up, mem.watermark, mem.proven = None, None, False
        out_keys = {(t, p) for t in outputs for p in range(topics.get(t, 0))}
        ends = self.offsets.ends({k for parts in reads.values() for k in parts} | out_keys)
        positions = {name: self._positions(jobs[name], parts) for name, parts in reads.items()}
        fetched_at = time.time()
        lag = self._lag(positions, ends)
        for name, pos in positions.items():
            self._judge(name, jobs[name], pos, ends, lag[name], fetched_at, blocked)
        for topic in (t for t in outputs if t not in topics):
            blocked[f"output {topic}"] = ("unknown-topic", f"output {topic} does not exist")
        for key in sorted(k for k in out_keys if k not in ends or ends[k].high > ends[k].stable):
            blocked[f"output {key[0]}"] = ("open-transaction", _tx_reason(key, ends))
        return SettleStatus(not blocked, "; ".join(r for _, r in blocked.values()) or "settled",
                            lag, time.time(), {n: k for n, (k, _) in blocked.items()},
                            {n: {ko.name_of(k): -1 if v is None else v for k, v in p.items()}
                             for n, p in positions.items()},
                            {ko.name_of(k): e.high for k, e in ends.items()})

    def _reads(self, jid: str, mem: _Job, topics: dict[str, int], name: str,
               blocked: dict[str, tuple[str, str]],
               ) -> dict[ko.Key, list[tuple[str, str, ko.SourceMetric]]]:
        """Partitions the job's sources read with their metrics; discovery is cached and
        redone (at most every second) while none are known or a topic gained partitions."""
        seen = {(t, m.partition) for _, _, m in mem.sources
                for t in ko.resolve_topic(m.topic, topics)}
        grown = any(topics.get(t, 0) > sum(1 for u, _ in seen if u == t) for t, _ in seen)
        if (not seen or grown) and time.monotonic() - mem.discovered_at > 1.0:
            vertices = [v["id"] for v in self._get(f"/jobs/{jid}")["vertices"]]
            mem.sources = [(vid, m["id"], parsed) for vid in vertices
                           for m in self._get(f"/jobs/{jid}/vertices/{vid}/metrics")
                           if (parsed := ko.parse_source_metric(m["id"]))]
            mem.discovered_at = time.monotonic()
        parts: dict[ko.Key, list[tuple[str, str, ko.SourceMetric]]] = {}
        for source in mem.sources:
            found = ko.resolve_topic(source[2].topic, topics)
            if len(found) != 1:
                blocked[name] = ("unknown-topic", f"{name} reads {source[2].topic!r}, which "
                                 f"matches {found or 'no topic'}")
                return {}
            parts.setdefault((found[0], source[2].partition), []).append(source)
        for key in {(t, p) for t, _ in parts for p in range(topics.get(t, 0))}:
            parts.setdefault(key, [])  # not assigned to a reader (yet)
        return parts

    def _positions(self, jid: str, parts: Mapping[ko.Key, list[tuple[str, str, ko.SourceMetric]]],
                   ) -> dict[ko.Key, int | None]:
        """Next offset each partition's source reads (its slowest reader's)."""
        by_vertex: dict[str, list[str]] = {}
        for vid, mid, _ in (s for sources in parts.values() for s in sources):
            by_vertex.setdefault(vid, []).append(mid)
        values: dict[tuple[str, str], int] = {}
        for vid, mids in by_vertex.items():
            per = max(1, 2500 // max(len(mid) + 1 for mid in mids))  # URLs < 4 KiB for Flink
            for i in range(0, len(mids), per):
                get = ",".join(mids[i:i + per])
                for item in self._get(f"/jobs/{jid}/vertices/{vid}/metrics", get=get):
                    values[(vid, item["id"])] = int(float(item["value"]))
        out: dict[ko.Key, int | None] = {}
        for key, sources in parts.items():
            readers: dict[tuple[str, str], dict[str, int]] = {}
            for vid, mid, m in sources:
                readers.setdefault((vid, mid.rsplit(".", 1)[0]), {})[m.metric] = \
                    values.get((vid, mid), -1)
            found = [ko.position(r.get("currentOffset", -1), r.get("committedOffset", -1))
                     for r in readers.values()]
            known = [p for p in found if p is not None]
            out[key] = min(known) if known and len(known) == len(found) else None
        return out

    def _lag(self, positions: Mapping[str, Mapping[ko.Key, int | None]],
             ends: Mapping[ko.Key, ko.PartitionEnds]) -> dict[str, dict[str, int]]:
        """Offsets behind per job and partition; a gap without visible records is 0."""
        todo: dict[ko.Key, tuple[int, int, int]] = {}  # partition -> start, probe from, end
        for key, p in ((k, p) for pos in positions.values() for k, p in pos.items()):
            g = ko.gap(p, ends[key]) if key in ends else None
            known = self._empty.get((key, g[0]), g[0]) if g else 0
            if g and known < g[1] and (key not in todo or g[0] > todo[key][0]):
                todo[key] = (g[0], known, g[1])  # one probe per partition and pass
        if len(self._empty) > 4096:
            self._empty.clear()
        ranges = {key: (known, end) for key, (_, known, end) in todo.items()}
        probed = self.offsets.has_records(ranges, self.probe_timeout_s) if ranges else {}
        for key, (start, _, end) in todo.items():
            if probed.get(key) is False:
                self._empty[(key, start)] = end
        return {name: {ko.name_of(k): self._behind(k, p, ends) for k, p in sorted(pos.items())}
                for name, pos in positions.items()}

    def _behind(self, key: ko.Key, next_offset: int | None,
                ends: Mapping[ko.Key, ko.PartitionEnds]) -> int:
        g = ko.gap(next_offset, ends[key]) if key in ends else None
        return 0 if g is None or self._empty.get((key, g[0]), g[0]) >= g[1] else g[1] - g[0]

    def _judge(self, name: str, jid: str, pos: Mapping[ko.Key, int | None],
               ends: Mapping[ko.Key, ko.PartitionEnds], lag: Mapping[str, int], fetched_at: float,
               blocked: dict[str, tuple[str, str]]) -> None:
        """Caught up, and checkpointed since? Remembers when it was first seen caught up."""
        mem = self._jobs[jid]
        missing = [k for k in pos if k not in ends]
        behind = {tp: n for tp, n in lag.items() if n > 0}
        open_tx = [k for k in pos if k in ends and ends[k].high > ends[k].stable]
        if missing or behind or open_tx:
            mem.caught_up, mem.watermark, mem.proven = None, None, False
            if behind:
                worst = max(behind, key=lambda tp: behind[tp])
                more = f" (+{len(behind) - 1} more partitions)" if len(behind) > 1 else ""
                blocked[name] = ("behind", f"{name} is {behind[worst]} records behind on "
                                           f"{worst}{more}")
            else:
                blocked[name] = ("unknown-topic" if missing else "open-transaction",
                                 f"{name}: {_tx_reason((missing or open_tx)[0], ends)}")
            return
        signature = tuple(sorted((k, ends[k].stable, ends[k].high) for k in pos))
        if mem.caught_up is None or mem.caught_up[1] != signature:
            mem.caught_up, mem.watermark, mem.proven = (fetched_at, signature), None, False
        mem.proven = mem.proven or self._checkpointed(jid, mem, mem.caught_up[0])
        if not mem.proven:
            blocked[name] = ("checkpoint", f"{name}: no checkpoint completed since it "
                                           "caught up")

    def _checkpointed(self, jid: str, mem: _Job, since: float) -> bool:
        """Did a checkpoint triggered after ``since`` complete? Proven by its trigger_timestamp,
        or by an id above the watermark of a later snapshot (see the module docstring)."""
        if mem.checkpoint[1] > since * 1000:
            mem.proof = max(mem.proof, mem.checkpoint[0])
            return True
        found = self._get(f"/jobs/{jid}/metrics", get="lastCompletedCheckpointId,"
                          "numberOfInProgressCheckpoints,runningTime")
        m = {x["id"]: int(float(x["value"])) for x in found}
        done = m.get("lastCompletedCheckpointId", -1)
        if mem.watermark is not None and done > mem.watermark:
            mem.proof = max(mem.proof, done)
            return True
        if mem.watermark is None and m.get("numberOfInProgressCheckpoints") == 0 and \
                "runningTime" in m:
            running = self._get(f"/jobs/{jid}")["timestamps"]["RUNNING"]
            if (running + m["runningTime"]) / 1000 >= since:
                mem.watermark = done
        if done > mem.checkpoint[0]:
            try:
                detail = self._get(f"/jobs/{jid}/checkpoints/details/{done}")
            except FlinkError:  # not in the (cached) checkpoint statistics yet
                detail = (self._get(f"/jobs/{jid}/checkpoints").get("latest") or {}).get(
                    "completed") or {}
            if detail.get("status") == "COMPLETED" and not detail.get("is_savepoint") \
                    and int(detail["id"]) > mem.checkpoint[0]:
                mem.checkpoint = (int(detail["id"]), int(detail["trigger_timestamp"]))
        if mem.checkpoint[1] > since * 1000:
            mem.proof = max(mem.proof, mem.checkpoint[0])
            return True
        return False

    def wait(self, jobs: Mapping[str, str], *, timeout_s: float = 120.0,
             interval_s: float = 0.25, on_progress: Callable[[SettleStatus], None] | None = None,
             outputs: Iterable[str] = (), down_grace_s: float = DOWN_GRACE_S,
             bounded: Collection[str] = ()) -> float:
        """Repeat :meth:`status` until a settled pass whose inputs held still meanwhile.

        Upstream statements write downstream inputs on checkpoint: a settled pass counts only
        if the end offsets of every topic read (and ``outputs``) did not move during it.

        Args:
            jobs: Statement name -> Flink job id.
            timeout_s: Longest wait.
            interval_s: Pause between passes that are not settled.
            on_progress: Called with every pass's status.
            outputs: As for :meth:`status`.
            bounded: As for :meth:`status`.
            down_grace_s: A job seen not running this long ends the wait at once.

        Returns:
            Seconds waited.

        Raises:
            SettleTimeout: (a ``WaitTimeout``) naming the last reason, the lag table and
                the likely fix per job.
        """
        outputs, started = list(outputs), time.monotonic()
        first: SettleStatus | None = None
        down: dict[str, float] = {}  # job -> since when it is seen not running
        while True:
            try:
                status = self.status(jobs, outputs=outputs, bounded=bounded)
            except (FlinkError, KafkaException, httpx.HTTPError) as exc:  # e.g. a job gone
                status = SettleStatus(False, f"a pass failed: {exc}", {}, time.time(),
                                      {"pass": "error"})
            first = first or status
            if status.settled:
                keys = [(t, int(p[:-1])) for t, p in (n.rsplit("[", 1) for n in status.end_offsets)]
                now = {ko.name_of(k): e.high for k, e in self.offsets.ends(keys).items()}
                moved = sorted(k for k, v in status.end_offsets.items() if now.get(k) != v)
                if not moved:
                    if on_progress:
                        on_progress(status)
                    return time.monotonic() - started
                status = SettleStatus(False, "end offsets moved during the settled pass: "
                                      + ", ".join(moved[:3]), status.lag, time.time(),
                                      {"inputs": "moved"}, status.positions, now)
            if on_progress:
                on_progress(status)
            clock = time.monotonic()
            down = {n: down.get(n, clock) for n, k in status.waiting_on.items()
                    if k == "not-running"}
            failed = clock - min(down.values(), default=clock) >= down_grace_s
            if failed or clock - started >= timeout_s:  # a job down for long fails at once
                raise SettleTimeout(
                    self._timeout_message(jobs, first, status, clock - started), status)
            if "inputs" not in status.waiting_on:  # moved inputs: pass again at once
                time.sleep(interval_s)

    def _timeout_message(self, jobs: Mapping[str, str], first: SettleStatus,
                         last: SettleStatus, timeout_s: float) -> str:
        table = "; ".join(f"{n}: " + ", ".join(f"{tp}={v}" for tp, v in parts.items())
                          for n, parts in last.lag.items()) or "no source partition known"
        fixes = " | ".join(likely_fix(self._get, n, kind, jobs.get(n, ""), first, last)
                           for n, kind in last.waiting_on.items())
        return (f"Flink jobs {sorted(jobs)} did not settle within {timeout_s:.0f}s: "
                f"{last.reason}\n  lag: {table}\n  likely fix: {fixes}")

def _tx_reason(key: ko.Key, ends: Mapping[ko.Key, ko.PartitionEnds]) -> str:
    if key not in ends:
        return f"no end offset for {ko.name_of(key)} (topic deleted?)"
    e = ends[key]
    return f"open transaction on {ko.name_of(key)} ({e.high - e.stable} uncommitted offsets)"
