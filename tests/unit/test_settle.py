"""Settling logic over an honest fake Flink REST API and a fake Kafka offsets source."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from harness.flink import FlinkRestClient, Settler, SettleTimeout
from harness.flink.kafka_offsets import (
    Key,
    PartitionEnds,
    gap,
    parse_source_metric,
    position,
    resolve_topic,
)
from harness.wait import WaitTimeout

OP = "Source__src[1]"


def metric_id(topic: str, partition: int, metric: str = "currentOffset", subtask: int = 0,
              operator: str = OP) -> str:
    return f"{subtask}.{operator}.KafkaSourceReader.topic.{topic}.partition.{partition}.{metric}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class FakeJob:
    """One job as the fake REST API reports it."""

    state: str = "RUNNING"
    tasks: tuple[int, int] = (1, 1)  # running, total
    metrics: dict[str, dict[str, int]] = field(default_factory=dict)  # vertex -> id -> value
    completed: list[tuple[int, int]] = field(default_factory=list)  # (id, trigger ms)
    in_progress: int = 0
    details_visible: bool = True  # False: /checkpoints/details 404 as while Flink's cache lags
    snapshot_lag_ms: int = 0  # how old the job-metric snapshot is
    root_exception: str | None = None


class FakeRest(FlinkRestClient):
    """A FlinkRestClient whose HTTP goes to an in-memory cluster; records every request."""

    def __init__(self, jobs: dict[str, FakeJob]) -> None:
        super().__init__("http://fake-flink")
        self.jobs = jobs
        self.requests: list[httpx.URL] = []
        self.failures = 0  # how many of the next requests answer HTTP 503
        self.http = httpx.Client(base_url="http://fake-flink",
                                 transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        if self.failures:
            self.failures -= 1
            return httpx.Response(503, json={"errors": ["fake JobManager is unavailable"]})
        parts = request.url.path.strip("/").split("/")
        get = request.url.params.get("get")
        if parts == ["jobs", "overview"]:
            return httpx.Response(200, json={"jobs": [
                {"jid": jid, "name": jid, "state": j.state,
                 "tasks": {"running": j.tasks[0], "total": j.tasks[1]}}
                for jid, j in self.jobs.items()]})
        job = self.jobs.get(parts[1]) if len(parts) > 1 else None
        if job is None:
            return httpx.Response(404, json={"errors": ["Job not found"]})
        rest = parts[2:]
        if not rest:
            return httpx.Response(200, json={"jid": parts[1], "name": parts[1],
                                             "state": job.state, "timestamps": {"RUNNING": 1000},
                                             "vertices": [{"id": v} for v in job.metrics]})
        if rest[0] == "vertices" and rest[2:] == ["metrics"]:
            values = job.metrics[rest[1]]
            if get is None:
                return httpx.Response(200, json=[{"id": i} for i in values])
            return httpx.Response(200, json=[{"id": i, "value": str(values[i])}
                                             for i in get.split(",") if i in values])
        if rest == ["metrics"]:
            done = job.completed[-1][0] if job.completed else -1
            values = {"lastCompletedCheckpointId": done,
                      "numberOfInProgressCheckpoints": job.in_progress,
                      # snapshot time = RUNNING (1000) + runningTime, rounded up to the ms
                      "runningTime": now_ms() + 1 - job.snapshot_lag_ms - 1000}
            return httpx.Response(200, json=[{"id": i, "value": str(values[i])}
                                             for i in (get or "").split(",") if i in values])
        if rest[:2] == ["checkpoints", "details"]:
            found = [c for c in job.completed if c[0] == int(rest[2])]
            if not found or not job.details_visible:
                return httpx.Response(404, json={"errors": ["Could not find checkpoint"]})
            return httpx.Response(200, json=self._checkpoint(found[0]))
        if rest == ["checkpoints"]:
            latest = self._checkpoint(job.completed[-1]) if job.completed else None
            if not job.details_visible:
                latest = None
            return httpx.Response(200, json={"latest": {"completed": latest}})
        if rest == ["exceptions"]:
            return httpx.Response(200, json={"root-exception": job.root_exception})
        return httpx.Response(404, json={"errors": [f"fake has no {request.url.path}"]})

    @staticmethod
    def _checkpoint(cp: tuple[int, int]) -> dict[str, Any]:
        return {"id": cp[0], "status": "COMPLETED", "is_savepoint": False,
                "trigger_timestamp": cp[1]}

    def count(self, fragment: str) -> int:
        return sum(1 for url in self.requests if fragment in str(url))


class FakeOffsets:
    """An OffsetSource over in-memory partitions; ``records`` are the visible offsets."""

    def __init__(self, ends: dict[Key, PartitionEnds], records: dict[Key, set[int]] | None = None,
                 partitions: dict[str, int] | None = None) -> None:
        self.end = dict(ends)
        self.records = records or {}
        self.partitions = partitions
        self.ends_calls = 0
        self.probes: list[dict[Key, tuple[int, int]]] = []
        self.on_ends: list[dict[Key, PartitionEnds]] = []  # replacements, one per ends() call
        self.closed = False

    def topics(self) -> dict[str, int]:
        if self.partitions is not None:
            return dict(self.partitions)
        counts: dict[str, int] = {}
        for topic, p in self.end:
            counts[topic] = max(counts.get(topic, 0), p + 1)
        return counts

    def ends(self, keys: Iterable[Key]) -> dict[Key, PartitionEnds]:
        self.ends_calls += 1
        if self.on_ends:
            self.end.update(self.on_ends.pop(0))
        return {k: self.end[k] for k in keys if k in self.end}

    def has_records(self, ranges: Mapping[Key, tuple[int, int]],
                    timeout_s: float) -> dict[Key, bool]:
        self.probes.append(dict(ranges))
        return {k: any(s <= o < e for o in self.records.get(k, set(range(s, e))))
                for k, (s, e) in ranges.items()}

    def close(self) -> None:
        self.closed = True


def ends(stable: int, high: int | None = None, low: int = 0) -> PartitionEnds:
    return PartitionEnds(low, stable, stable if high is None else high)


def one_job(current: dict[int, int], *, topic: str = "ns_src", **kw: Any) -> FakeJob:
    metrics = {metric_id(topic, p, "currentOffset"): v for p, v in current.items()}
    metrics |= {metric_id(topic, p, "committedOffset"): -1 for p in current}
    return FakeJob(metrics={"v1": metrics}, **kw)


def checkpoint_now(job: FakeJob) -> None:
    """A checkpoint triggered after every pass so far, and before any later one, completes."""
    trigger = now_ms() + 1
    job.completed.append(((job.completed[-1][0] if job.completed else 0) + 1, trigger))
    while now_ms() <= trigger:  # at most 2 ms: later passes are strictly after the trigger
        pass


# -- pure parts ------------------------------------------------------------------------
def test_parses_kafka_source_partition_metrics_and_ignores_others():
    parsed = parse_source_metric("0.Source__src[1].KafkaSourceReader.topic.probe_src."
                                 "partition.2.currentOffset")
    assert parsed is not None
    assert (parsed.topic, parsed.partition, parsed.metric) == ("probe_src", 2, "currentOffset")
    unsanitised = parse_source_metric("3.Source__x[4].KafkaSourceReader.topic.a.b."
                                      "partition.12.committedOffset")
    assert unsanitised is not None and unsanitised.topic == "a.b"
    assert unsanitised.partition == 12 and unsanitised.metric == "committedOffset"
    for other in ("0.Source__src[1].KafkaSourceReader.commitsSucceeded",
                  "0.Source__src[1].pendingRecords",
                  "0.Source__src[1].KafkaSourceReader.KafkaConsumer.records-lag-max",
                  "0.Source__src[1].numRecordsOut"):
        assert parse_source_metric(other) is None


def test_sanitised_topic_names_resolve_to_the_real_topic():
    assert resolve_topic("probe_src", ["probe.src", "other"]) == ["probe.src"]
    assert resolve_topic("a.b", ["a.b", "a_b"]) == ["a.b"]
    assert resolve_topic("a_b", ["a.b", "a_b"]) == ["a_b"]  # exact name wins
    assert resolve_topic("ns_x_y", ["ns.x_y", "ns_x.y"]) == ["ns.x_y", "ns_x.y"]
    assert resolve_topic("gone", ["x"]) == []


def test_position_is_the_next_offset_to_read():
    assert position(4, -1) == 5  # currentOffset is the last emitted record
    assert position(-1, -1) is None  # nothing read yet
    assert position(-1, 7) == 7  # started at latest: only a committed offset
    assert position(4, 5) == 5


def test_gap_handles_empty_partitions_markers_and_retention():
    assert gap(5, ends(5)) is None
    assert gap(None, ends(0)) is None  # empty partition
    assert gap(None, ends(5)) == (0, 5)
    assert gap(5, ends(6)) == (5, 6)  # maybe just a commit marker: probed
    assert gap(None, ends(10, low=10)) is None  # everything deleted by retention
    assert gap(3, ends(10, low=8)) == (8, 10)


# -- one pass --------------------------------------------------------------------------
def test_caught_up_job_settles_only_after_a_checkpoint_triggered_later():
    job = one_job({0: 4, 1: 9}, completed=[(1, now_ms() - 5000)])
    rest = FakeRest({"j1": job})
    offsets = FakeOffsets({("ns.src", 0): ends(5), ("ns.src", 1): ends(10)})
    settler = Settler(rest, "unused", offsets=offsets)
    first = settler.status({"a": "j1"})
    assert not first.settled
    assert first.reason == "a: no checkpoint completed since it caught up"
    assert first.lag == {"a": {"ns.src[0]": 0, "ns.src[1]": 0}}
    assert first.waiting_on == {"a": "checkpoint"}
    checkpoint_now(job)
    assert settler.status({"a": "j1"}).settled
    assert settler.status({"a": "j1"}).reason == "settled"


def test_lag_names_the_job_and_partition():
    rest = FakeRest({"j1": one_job({0: 4, 1: 2, 2: -1})})
    offsets = FakeOffsets({("ns.src", 0): ends(5), ("ns.src", 1): ends(40),
                           ("ns.src", 2): ends(0)})
    status = Settler(rest, "unused", offsets=offsets).status({"int_x_v2": "j1"})
    assert not status.settled
    assert status.lag == {"int_x_v2": {"ns.src[0]": 0, "ns.src[1]": 37, "ns.src[2]": 0}}
    assert status.reason == "int_x_v2 is 37 records behind on ns.src[1]"
    assert status.positions == {"int_x_v2": {"ns.src[0]": 5, "ns.src[1]": 3, "ns.src[2]": -1}}


def test_a_gap_of_commit_markers_only_is_caught_up_and_probed_once():
    job = one_job({0: 4}, completed=[(1, now_ms() - 5000)])
    rest = FakeRest({"j1": job})
    # exactly-once topic: records at 0-4, commit marker at 5, end 6
    offsets = FakeOffsets({("ns.src", 0): ends(6)}, records={("ns.src", 0): {0, 1, 2, 3, 4}})
    settler = Settler(rest, "unused", offsets=offsets)
    assert settler.status({"a": "j1"}).lag == {"a": {"ns.src[0]": 0}}
    checkpoint_now(job)
    assert settler.status({"a": "j1"}).settled
    assert offsets.probes == [{("ns.src", 0): (5, 6)}]  # the empty gap is remembered


def test_a_gap_with_a_visible_record_is_lag():
    offsets = FakeOffsets({("ns.src", 0): ends(8)}, records={("ns.src", 0): {0, 1, 2, 3, 4, 6}})
    status = Settler(FakeRest({"j1": one_job({0: 4})}), "unused", offsets=offsets).status(
        {"a": "j1"})
    assert status.lag == {"a": {"ns.src[0]": 3}} and not status.settled


def test_an_open_transaction_on_an_input_is_not_settled():
    job = one_job({0: 4}, completed=[(1, now_ms() + 60_000)])
    offsets = FakeOffsets({("ns.src", 0): ends(5, high=9)})
    status = Settler(FakeRest({"j1": job}), "unused", offsets=offsets).status({"a": "j1"})
    assert not status.settled
    assert status.reason == "a: open transaction on ns.src[0] (4 uncommitted offsets)"


def test_an_open_transaction_on_an_output_is_not_settled():
    job = one_job({0: 4}, completed=[(1, now_ms() + 60_000)])
    offsets = FakeOffsets({("ns.src", 0): ends(5), ("ns.out", 0): ends(3, high=4)})
    settler = Settler(FakeRest({"j1": job}), "unused", offsets=offsets)
    assert settler.status({"a": "j1"}).settled
    status = settler.status({"a": "j1"}, outputs=["ns.out"])
    assert status.waiting_on == {"output ns.out": "open-transaction"}


@pytest.mark.parametrize("state", ["CANCELED", "FAILED", "RESTARTING"])
def test_a_job_that_is_not_running_is_not_settled(state):
    rest = FakeRest({"j1": one_job({0: 4}, state=state)})
    status = Settler(rest, "unused", offsets=FakeOffsets({("ns.src", 0): ends(5)})).status(
        {"fct_y": "j1"})
    assert not status.settled
    assert status.reason == f"fct_y (job j1) is {state}"


def test_an_unknown_job_and_tasks_not_running_are_not_settled():
    rest = FakeRest({"j1": one_job({0: 4}, tasks=(1, 2))})
    status = Settler(rest, "unused", offsets=FakeOffsets({("ns.src", 0): ends(5)})).status(
        {"a": "j1", "b": "nope"})
    assert status.reason == "a: 1/2 tasks running; b (job nope) is unknown to the cluster"


def test_a_job_without_kafka_source_metrics_is_not_settled():
    rest = FakeRest({"j1": FakeJob(metrics={"v1": {"0.Source__src[1].numRecordsOut": 0}})})
    status = Settler(rest, "unused", offsets=FakeOffsets({})).status({"a": "j1"})
    assert status.reason == "a: no Kafka source metrics yet"
    assert status.waiting_on == {"a": "no-source-metrics"}


def test_an_ambiguous_sanitised_topic_is_reported():
    rest = FakeRest({"j1": one_job({0: 4}, topic="ns_x_y")})
    offsets = FakeOffsets({("ns.x_y", 0): ends(5), ("ns_x.y", 0): ends(5)})
    status = Settler(rest, "unused", offsets=offsets).status({"a": "j1"})
    assert status.waiting_on == {"a": "unknown-topic"}
    assert "'ns_x_y', which matches ['ns.x_y', 'ns_x.y']" in status.reason


def test_unassigned_partitions_of_a_topic_count_as_unread():
    rest = FakeRest({"j1": one_job({0: 4})})  # partition 1 has no reader metrics
    offsets = FakeOffsets({("ns.src", 0): ends(5), ("ns.src", 1): ends(3)})
    status = Settler(rest, "unused", offsets=offsets).status({"a": "j1"})
    assert status.lag == {"a": {"ns.src[0]": 0, "ns.src[1]": 3}}


def test_discovery_is_cached_and_metric_reads_are_batched_under_the_url_limit():
    topic = "ns_" + "t" * 120
    job = one_job({p: 0 for p in range(40)}, topic=topic)
    rest = FakeRest({"j1": job})
    offsets = FakeOffsets({("ns." + "t" * 120, p): ends(1) for p in range(40)})
    settler = Settler(rest, "unused", offsets=offsets)
    for _ in range(3):
        settler.status({"a": "j1"})
    listings = [u for u in rest.requests if u.path.endswith("/metrics")
                and "vertices" in u.path and "get" not in u.params]
    reads = [u for u in rest.requests if "vertices" in u.path and "get" in u.params]
    assert len(listings) == 1  # vertex -> metric names discovered once
    assert len(reads) > 3 and all(len(str(u)) < 4000 for u in reads)
    asked = {i for u in reads for i in u.params["get"].split(",")}
    assert len(asked) == 80


def test_a_partition_read_by_two_operators_is_as_far_as_the_slower_one():
    job = one_job({0: 9})
    job.metrics["v2"] = {metric_id("ns_src", 0, operator="Source__src[7]"): 4}
    offsets = FakeOffsets({("ns.src", 0): ends(10)})
    status = Settler(FakeRest({"j1": job}), "unused", offsets=offsets).status({"self_join": "j1"})
    assert status.lag == {"self_join": {"ns.src[0]": 5}}


# -- caught-up memory ------------------------------------------------------------------
def test_falling_behind_resets_the_caught_up_time():
    job = one_job({0: 4})
    offsets = FakeOffsets({("ns.src", 0): ends(5)})
    settler = Settler(FakeRest({"j1": job}), "unused", offsets=offsets)
    assert settler.status({"a": "j1"}).waiting_on == {"a": "checkpoint"}
    checkpoint_now(job)  # triggered after it caught up ...
    offsets.end[("ns.src", 0)] = ends(9)  # ... but new input arrived
    assert settler.status({"a": "j1"}).waiting_on == {"a": "behind"}
    job.metrics["v1"][metric_id("ns_src", 0)] = 8
    assert settler.status({"a": "j1"}).waiting_on == {"a": "checkpoint"}  # needs a new one
    checkpoint_now(job)
    assert settler.status({"a": "j1"}).settled


def test_new_end_offsets_restart_the_caught_up_clock_even_without_lag_seen():
    job = one_job({0: 4})
    offsets = FakeOffsets({("ns.src", 0): ends(5)}, records={("ns.src", 0): set(range(5))})
    settler = Settler(FakeRest({"j1": job}), "unused", offsets=offsets)
    settler.status({"a": "j1"})
    checkpoint_now(job)
    offsets.end[("ns.src", 0)] = ends(6)  # a marker, read past between two passes
    assert settler.status({"a": "j1"}).settled is False
    checkpoint_now(job)
    assert settler.status({"a": "j1"}).settled


def test_a_checkpoint_is_proven_by_a_later_metric_snapshot_when_statistics_lag():
    job = one_job({0: 4}, completed=[(1, now_ms() - 5000)], details_visible=False)
    rest = FakeRest({"j1": job})
    settler = Settler(rest, "unused", offsets=FakeOffsets({("ns.src", 0): ends(5)}))
    assert settler.status({"a": "j1"}).waiting_on == {"a": "checkpoint"}  # watermark: id 1
    job.completed.append((2, 0))  # trigger time unknown: statistics cache still stale
    assert settler.status({"a": "j1"}).settled


def test_a_stale_snapshot_or_one_in_progress_sets_no_watermark():
    job = one_job({0: 4}, completed=[(1, now_ms() - 5000)], details_visible=False,
                  snapshot_lag_ms=60_000)
    settler = Settler(FakeRest({"j1": job}), "unused",
                      offsets=FakeOffsets({("ns.src", 0): ends(5)}))
    settler.status({"a": "j1"})
    job.completed.append((2, 0))  # may have been triggered before the job caught up
    assert not settler.status({"a": "j1"}).settled
    job.snapshot_lag_ms, job.in_progress = 0, 1
    settler.status({"a": "j1"})
    job.completed.append((3, 0))  # 3 may be the one in progress at that snapshot
    assert not settler.status({"a": "j1"}).settled
    job.in_progress = 0
    settler.status({"a": "j1"})
    job.completed.append((4, 0))
    assert settler.status({"a": "j1"}).settled


# -- waiting ---------------------------------------------------------------------------
def test_wait_needs_end_offsets_that_held_still_through_the_settled_pass():
    job = one_job({0: 4}, completed=[(1, now_ms() + 60_000)])
    offsets = FakeOffsets({("ns.src", 0): ends(5)}, records={("ns.src", 0): set(range(5))})
    # 1st pass reads end 5 (settled), the re-check sees 6: an upstream commit landed
    offsets.on_ends = [{}, {("ns.src", 0): ends(6)}]
    seen = []
    settler = Settler(FakeRest({"j1": job}), "unused", offsets=offsets)
    settler.wait({"a": "j1"}, timeout_s=10, interval_s=0, on_progress=seen.append)
    assert [s.settled for s in seen] == [False, True]
    assert seen[0].reason == "end offsets moved during the settled pass: ns.src[0]"
    assert offsets.ends_calls == 4  # two passes, each re-checked


def test_wait_retries_a_pass_that_failed():
    rest = FakeRest({"j1": one_job({0: 4}, completed=[(1, now_ms() + 60_000)])})
    rest.failures = 1
    seen = []
    Settler(rest, "unused", offsets=FakeOffsets({("ns.src", 0): ends(5)})).wait(
        {"a": "j1"}, timeout_s=10, interval_s=0, on_progress=seen.append)
    assert [s.waiting_on for s in seen] == [{"pass": "error"}, {}]
    assert "HTTP 503" in seen[0].reason


def test_wait_on_a_cancelled_job_raises_naming_it_and_the_fix():
    job = one_job({0: 4}, state="CANCELED")
    settler = Settler(FakeRest({"j1": job}), "unused",
                      offsets=FakeOffsets({("ns.src", 0): ends(5)}))
    started = time.monotonic()
    with pytest.raises(SettleTimeout) as err:
        settler.wait({"fct_y": "j1"}, timeout_s=0.2, interval_s=0.01)
    assert time.monotonic() - started < 2
    assert isinstance(err.value, WaitTimeout)
    message = str(err.value)
    assert "fct_y (job j1) is CANCELED" in message
    assert "job fct_y (j1) is not running" in message and "resubmit it" in message
    assert err.value.status.waiting_on == {"fct_y": "not-running"}


def test_wait_timeout_names_a_source_that_does_not_read_and_carries_the_lag():
    job = one_job({0: 4}, state="RUNNING", root_exception="java.lang.Boom: x\n at y")
    settler = Settler(FakeRest({"j1": job}), "unused",
                      offsets=FakeOffsets({("ns.src", 0): ends(50)}))
    with pytest.raises(SettleTimeout) as err:
        settler.wait({"int_x_v2": "j1"}, timeout_s=0.1, interval_s=0.01)
    message = str(err.value)
    assert "int_x_v2 is 45 records behind on ns.src[0]" in message
    assert "lag: int_x_v2: ns.src[0]=45" in message
    assert "job int_x_v2's source is not reading ns.src[0]" in message


def test_wait_timeout_of_a_failed_job_quotes_its_root_exception():
    job = one_job({0: 4}, state="FAILED", root_exception="java.lang.Boom: x\n at y")
    settler = Settler(FakeRest({"j1": job}), "unused",
                      offsets=FakeOffsets({("ns.src", 0): ends(5)}))
    with pytest.raises(SettleTimeout, match=r"not running \(java.lang.Boom: x\)"):
        settler.wait({"a": "j1"}, timeout_s=0.05, interval_s=0.01)


def test_settler_closes_its_kafka_clients():
    offsets = FakeOffsets({})
    with Settler(FakeRest({}), "unused", offsets=offsets) as settler:
        assert settler.status({}).settled
    assert offsets.closed


def test_a_job_that_stays_down_ends_the_wait_long_before_the_timeout():
    job = one_job({0: 4}, state="FAILED", root_exception="java.io.IOException: bad record")
    settler = Settler(FakeRest({"j1": job}), "unused",
                      offsets=FakeOffsets({("ns.src", 0): ends(5)}))
    started = time.monotonic()
    with pytest.raises(SettleTimeout, match="bad record"):
        settler.wait({"src_x": "j1"}, timeout_s=600, interval_s=0.01, down_grace_s=0.3)
    assert time.monotonic() - started < 5


def test_a_bounded_job_that_finished_is_settled_beside_a_caught_up_one():
    # INSERT ... VALUES seeds end FINISHED: they wrote all they will and have no source
    # metrics to read; a streaming job beside them still has to prove its checkpoint
    rest = FakeRest({"seed": one_job({}, state="FINISHED"), "j1": one_job({0: 4})})
    settler = Settler(rest, "unused", offsets=FakeOffsets({("ns.src", 0): ends(5)}))
    first = settler.status({"seed_rows": "seed", "fct_y": "j1"}, bounded={"seed_rows"})
    assert "seed_rows" not in first.waiting_on and first.waiting_on
    assert settler.status({"seed_rows": "seed"}, bounded={"seed_rows"}).settled


def test_a_streaming_job_that_finished_was_stopped_and_is_not_settled():
    # a stop with a savepoint ends a job FINISHED too: only a bounded one is done
    rest = FakeRest({"j1": one_job({0: 4}, state="FINISHED")})
    status = Settler(rest, "unused", offsets=FakeOffsets({("ns.src", 0): ends(5)})).status(
        {"fct_y": "j1"})
    assert status.waiting_on == {"fct_y": "not-running"}


def test_finished_is_healthy_only_for_a_bounded_statement():
    from harness.flink.statement import Statement

    seed = Statement("seed", "INSERT INTO t VALUES (1)", bounded=True)
    stream = Statement("fct", "INSERT INTO f SELECT * FROM t")
    assert seed.healthy_in("FINISHED") and seed.healthy_in("RUNNING")
    assert stream.healthy_in("RUNNING") and not stream.healthy_in("FINISHED")
    assert not seed.healthy_in("CANCELED") and not stream.healthy_in(None)
