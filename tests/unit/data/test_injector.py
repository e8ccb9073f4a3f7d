import datetime
import json
import threading
import time
from decimal import Decimal

import pytest
from confluent_kafka import KafkaError, KafkaException

from harness import fakes
from harness.data import (
    InjectionError,
    InjectionStats,
    KafkaInjector,
    Ledger,
    RateLimiter,
    RecordGenerator,
    columns_from_ddl,
)
from harness.errors import ConfigError

TOPIC = "ns.quotes"


class FakeClock(fakes.FakeClock):
    """The package's fake clock, refusing a zero sleep: here one would be a busy loop."""

    def sleep(self, seconds):
        assert seconds > 0, "a zero or negative sleep would be a busy loop"
        super().sleep(seconds)

class FakeMessage:
    def __init__(self, partition, offset):
        self._partition, self._offset = partition, offset

    def partition(self):
        return self._partition

    def offset(self):
        return self._offset


class FakeProducer:
    """Stands in for confluent_kafka.Producer: delivers queued records on poll and flush.

    Args:
        fail_keys: Keys whose delivery fails.
        stuck: Never deliver (a broker that is down); flush reports what is left.
        queue_limit: Raise BufferError when this many records are queued.
        reject_keys: Keys whose produce() raises KafkaException.
    """

    def __init__(self, config, *, fail_keys=(), stuck=False, queue_limit=None,
                 reject_keys=()):
        self.config = config
        self.fail_keys, self.stuck = set(fail_keys), stuck
        self.queue_limit, self.reject_keys = queue_limit, set(reject_keys)
        self.queued = []
        self.delivered = []
        self.offsets = {}
        self.buffer_errors = 0

    def produce(self, topic, *, value, key, on_delivery):
        if key.decode() in self.reject_keys:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        if self.queue_limit is not None and len(self.queued) >= self.queue_limit:
            self.buffer_errors += 1
            raise BufferError("Local: Queue full")
        self.queued.append((topic, key, value, on_delivery))

    def poll(self, timeout):
        if self.stuck:
            return 0
        served, self.queued = self.queued, []
        for topic, key, value, on_delivery in served:
            if key.decode() in self.fail_keys:
                on_delivery(KafkaError(KafkaError._MSG_TIMED_OUT), None)
                continue
            partition = sum(key) % 3
            offset = self.offsets.get(partition, 0)
            self.offsets[partition] = offset + 1
            self.delivered.append((topic, key, value))
            on_delivery(None, FakeMessage(partition, offset))
        return len(served)

    def flush(self, timeout):
        self.poll(timeout)
        return len(self.queued)


def make(ledger=None, producer_options=None, **kwargs):
    producers = []

    def factory(config):
        producers.append(FakeProducer(config, **(producer_options or {})))
        return producers[-1]

    injector = KafkaInjector("localhost:9092", TOPIC, ledger=ledger or Ledger(),
                             key_field="id", producer_factory=factory, **kwargs)
    return injector, producers[0]


def records(n, seed=1):
    columns = columns_from_ddl("id BIGINT, symbol STRING, price DOUBLE")
    return RecordGenerator(columns, key="id", seed=seed).records(n)


# RateLimiter


def test_rate_limiter_paces_acquisitions():
    clock = FakeClock()
    limiter = RateLimiter(10, burst=1, clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(21):
        assert limiter.acquire()
    assert clock.now - 1000 == pytest.approx(2.0)  # the first is free, then 10 per second


def test_rate_limiter_sleeps_in_small_slices():
    clock = FakeClock()
    limiter = RateLimiter(0.5, clock=clock.monotonic, sleep=clock.sleep, max_sleep_s=0.05)
    limiter.acquire()
    limiter.acquire()
    assert clock.now - 1000 == pytest.approx(2.0)
    assert max(clock.sleeps) <= 0.05 and len(clock.sleeps) == pytest.approx(40, abs=1)


def test_rate_limiter_burst_after_idle_is_capped():
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock.monotonic, sleep=clock.sleep)
    clock.now += 100  # idle: the bucket holds at most 3 tokens
    start = clock.now
    for _ in range(5):
        limiter.acquire()
    assert clock.now - start == pytest.approx(0.2)


def test_rate_limiter_default_burst_is_ten_milliseconds_of_rate():
    assert RateLimiter(10_000).capacity == 100
    assert RateLimiter(5).capacity == 1


def test_rate_limiter_returns_false_once_stopped():
    clock = FakeClock()
    stop = threading.Event()

    def sleep(seconds):
        clock.sleep(seconds)
        stop.set()

    limiter = RateLimiter(1, clock=clock.monotonic, sleep=sleep)
    assert limiter.acquire(stop=stop)
    assert not limiter.acquire(stop=stop)
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize("rate", [0, -5])
def test_rate_must_be_positive(rate):
    with pytest.raises(ConfigError, match="positive"):
        RateLimiter(rate)
    with pytest.raises(ConfigError):
        make(rate_per_s=rate)


# KafkaInjector.send


def test_producer_is_idempotent_with_acks_all():
    _, producer = make(producer_config={"linger.ms": 5, "compression.type": "zstd"})
    assert producer.config == {"bootstrap.servers": "localhost:9092", "enable.idempotence": True,
                               "acks": "all", "linger.ms": 5, "compression.type": "zstd"}


@pytest.mark.parametrize("config", [{"enable.idempotence": False}, {"acks": "1"}])
def test_weaker_delivery_guarantees_are_refused(config):
    with pytest.raises(ConfigError, match="remove"):
        make(producer_config=config)


def test_send_produces_json_values_keyed_by_the_key_field():
    ledger = Ledger()
    injector, producer = make(ledger)
    batch = records(20)
    stats = injector.send(batch)
    assert (stats.sent, stats.acked, stats.failed) == (20, 20, 0)
    assert [json.loads(value) for _, _, value in producer.delivered] == batch
    assert [key for _, key, _ in producer.delivered] == [str(r["id"]).encode() for r in batch]
    assert ledger.latest_acked(TOPIC) == {str(r["id"]): r for r in batch}
    assert ledger.unacked(TOPIC) == []


def test_values_use_str_for_non_json_types():
    injector, producer = make()
    injector.send([{"id": 2, "when": datetime.date(2024, 1, 2), "n": Decimal("1.50")}])
    assert json.loads(producer.delivered[0][2]) == {"id": 2, "when": "2024-01-02", "n": "1.50"}


def test_failed_deliveries_raise_with_count_and_first_error():
    ledger = Ledger()
    injector, _ = make(ledger, producer_options={"fail_keys": {"3", "7"}})
    with pytest.raises(InjectionError, match=r"2 of 10 records failed.*timed out") as info:
        injector.send(records(10))
    stats = info.value.stats
    assert isinstance(stats, InjectionStats)
    assert (stats.sent, stats.acked, stats.failed) == (10, 8, 2)
    assert [key for key, _ in ledger.failures(TOPIC)] == ["3", "7"]
    assert ledger.acked_keys(TOPIC) == {str(i) for i in range(1, 11)} - {"3", "7"}


def test_flush_timeout_raises_and_leaves_records_unacked():
    ledger = Ledger()
    injector, _ = make(ledger, producer_options={"stuck": True}, flush_timeout_s=5)
    with pytest.raises(InjectionError, match=r"3 records still unacknowledged after 5s.*broker"):
        injector.send(records(3))
    assert [key for key, _ in ledger.unacked(TOPIC)] == ["1", "2", "3"]


def test_a_full_local_queue_is_drained_by_polling():
    injector, producer = make(producer_options={"queue_limit": 2})
    serve = producer.poll
    producer.poll = lambda timeout: serve(timeout) if timeout > 0 else 0  # only waits drain
    assert injector.send(records(10)).acked == 10
    assert producer.buffer_errors > 0


def test_a_rejected_record_is_recorded_as_failed():
    ledger = Ledger()
    injector, _ = make(ledger, producer_options={"reject_keys": {"2"}})
    with pytest.raises(InjectionError, match="1 of 3 records failed"):
        injector.send(records(3))
    assert [key for key, _ in ledger.failures(TOPIC)] == ["2"]


def test_record_without_the_key_field():
    injector, _ = make()
    with pytest.raises(InjectionError, match=r"no key field 'id'.*symbol"):
        injector.send([{"symbol": "ABC"}])


def test_send_is_rate_limited():
    clock = FakeClock()
    injector, _ = make(rate_per_s=100, clock=clock.monotonic, sleep=clock.sleep)
    stats = injector.send(records(201))
    assert stats.seconds == pytest.approx(2.0)
    assert stats.rate_per_s == pytest.approx(100.5)
    assert max(clock.sleeps) <= 0.05


def test_send_without_rate_never_sleeps():
    clock = FakeClock()
    injector, _ = make(clock=clock.monotonic, sleep=clock.sleep)
    assert injector.send(records(500)).acked == 500
    assert clock.sleeps == []


# KafkaInjector background runs


def counting_source(ready_after):
    """A record source that sets ``ready`` once it has made ``ready_after`` records."""
    ready = threading.Event()
    made = []

    def source():
        made.append({"id": len(made) + 1, "symbol": "ABC"})
        if len(made) >= ready_after:
            ready.set()
        return made[-1]

    return source, ready, made


def test_background_run_until_stop():
    ledger = Ledger()
    injector, _ = make(ledger)
    source, ready, made = counting_source(20)
    injector.start(source, rate_per_s=5000)
    assert injector.running
    assert ready.wait(5)
    stats = injector.stop()
    assert not injector.running
    assert stats.sent == len(made) >= 20 and stats.acked == stats.sent
    assert ledger.counts()[TOPIC] == {"sent": stats.sent, "acked": stats.sent, "failed": 0}
    assert not any(t.name == f"injector-{TOPIC}" for t in threading.enumerate())


def test_stop_is_prompt_while_waiting_for_a_token():
    injector, _ = make()
    source, ready, _ = counting_source(1)
    injector.start(source, rate_per_s=0.1)  # next token in 10 s
    assert ready.wait(5)
    began = time.monotonic()
    stats = injector.stop()
    assert time.monotonic() - began < 1.0
    assert stats.acked == 1


def test_background_rate_defaults_to_the_injectors():
    injector, _ = make(rate_per_s=0.1)
    source, ready, _ = counting_source(1)
    injector.start(source)
    assert ready.wait(5)
    assert injector.stop().sent == 1


def test_background_run_needs_a_rate():
    injector, _ = make()
    with pytest.raises(ConfigError, match="needs a rate"):
        injector.start(lambda: {"id": 1})


def test_a_failing_source_is_reported_by_stop():
    injector, _ = make()
    failing = threading.Event()

    def source():
        if injector.ledger.counts().get(TOPIC, {}).get("sent") == 2:
            failing.set()
            raise RuntimeError("generator exhausted")
        return {"id": 1}

    injector.start(source, rate_per_s=1000)
    assert failing.wait(5)
    with pytest.raises(InjectionError, match=r"generator exhausted.*after 2 records") as info:
        injector.stop()
    assert isinstance(info.value.__cause__, RuntimeError)
    assert not injector.running


def test_a_record_without_key_ends_the_background_run():
    injector, _ = make()
    called = threading.Event()

    def source():
        called.set()
        return {"symbol": "ABC"}

    injector.start(source, rate_per_s=1000)
    assert called.wait(5)
    with pytest.raises(InjectionError, match="no key field"):
        injector.stop()


def test_background_failures_are_raised_by_stop():
    ledger = Ledger()
    injector, _ = make(ledger, producer_options={"fail_keys": {"2"}})
    source, ready, _ = counting_source(3)
    injector.start(source, rate_per_s=1000)
    assert ready.wait(5)
    with pytest.raises(InjectionError, match="records failed delivery"):
        injector.stop()
    assert [key for key, _ in ledger.failures(TOPIC)] == ["2"]


def test_runs_out_of_order_are_refused():
    injector, _ = make()
    with pytest.raises(InjectionError, match="call start"):
        injector.stop()
    source, _, _ = counting_source(1)
    injector.start(source, rate_per_s=1000)
    with pytest.raises(InjectionError, match="already under way"):
        injector.start(source, rate_per_s=1000)
    with pytest.raises(InjectionError, match="stop\\(\\) before send"):
        injector.send(records(1))
    injector.stop()


def test_context_manager_stops_the_thread_and_keeps_the_original_error():
    source, ready, _ = counting_source(5)
    with pytest.raises(ValueError, match="scenario failed"):  # noqa: SIM117
        with make()[0] as injector:
            injector.start(source, rate_per_s=1000)
            assert ready.wait(5)
            raise ValueError("scenario failed")
    assert not injector.running


def test_context_manager_reports_a_failed_stop_as_a_note():
    source, ready, _ = counting_source(2)
    with pytest.raises(ValueError) as info:  # noqa: SIM117
        with make(producer_options={"fail_keys": {"1"}})[0] as injector:
            injector.start(source, rate_per_s=1000)
            assert ready.wait(5)
            raise ValueError("scenario failed")
    assert "records failed delivery" in info.value.__notes__[0]
    assert not injector.running
