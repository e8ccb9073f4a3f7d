"""Producing records to a Kafka topic, with every send and delivery kept in a ledger.

The producer is idempotent with ``acks=all``, so an acknowledged record is written exactly
once to all in-sync replicas: the ledger's acknowledged records are what a correct pipeline
must reflect. Values are JSON (``json.dumps(record, default=str)``) and the key is
``str(record[key_field])``, unless ``encode_value`` and ``encode_key`` say otherwise (Avro
through the registry: :mod:`harness.data.encoding`); the ledger keeps the key's text.

:meth:`KafkaInjector.send` produces a batch and waits for it; :meth:`KafkaInjector.start`
keeps producing from a background thread (e.g. during a deployment) until
:meth:`KafkaInjector.stop`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from confluent_kafka import KafkaException, Producer

from harness.data.encoding import json_value
from harness.data.ledger import Ledger, Record
from harness.errors import ConfigError, CutoverError

DeliveryCallback = Callable[[Any, Any], None]
_REQUIRED = {"enable.idempotence": (True, "true"), "acks": ("all", "-1", -1)}


class ProducerLike(Protocol):
    """The part of ``confluent_kafka.Producer`` the injector uses."""

    def produce(self, topic: str, *, value: bytes, key: bytes,
                on_delivery: DeliveryCallback) -> None: ...

    def poll(self, timeout: float) -> int: ...

    def flush(self, timeout: float) -> int: ...


class InjectionError(CutoverError):
    """Records were not all delivered, or the injector was used out of order."""

    def __init__(self, message: str, stats: InjectionStats | None = None) -> None:
        super().__init__(message)
        self.stats = stats


@dataclass(frozen=True)
class InjectionStats:
    """Outcome of one batch or background run; ``rate_per_s`` is acked records per second."""

    sent: int
    acked: int
    failed: int
    seconds: float
    rate_per_s: float


class RateLimiter:
    """A token bucket: on average ``rate_per_s`` acquisitions per second.

    Waiting sleeps in slices of at most ``max_sleep_s`` and re-checks an optional stop
    event between slices, so a stop is noticed promptly and the CPU stays idle.

    Args:
        rate_per_s: Refill rate.
        burst: Bucket size, i.e. how many acquisitions may happen back to back after an
            idle period; default 10 ms worth of rate, at least 1. The bucket starts full.
        clock: Monotonic clock; sleep: sleep function (both injectable for tests).
        max_sleep_s: Longest single sleep.
    """

    def __init__(self, rate_per_s: float, *, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, max_sleep_s: float = 0.05) -> None:
        if rate_per_s <= 0:
            raise ConfigError(f"rate_per_s must be positive, got {rate_per_s}; pass None "
                              "to produce as fast as possible")
        self.rate_per_s = rate_per_s
        self.capacity = burst if burst is not None else max(1.0, rate_per_s * 0.01)
        if self.capacity < 1:
            raise ConfigError(f"burst must be at least 1, got {burst}")
        self.max_sleep_s = max_sleep_s
        self._clock, self._sleep = clock, sleep
        self._tokens = self.capacity
        self._last = clock()

    def acquire(self, *, stop: threading.Event | None = None) -> bool:
        """Take one token, waiting for it if needed.

        Returns:
            True once a token was taken; False if ``stop`` was set first.
        """
        while stop is None or not stop.is_set():
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate_per_s)
            self._last = now
            if self._tokens >= 1 - 1e-9:
                self._tokens -= 1
                return True
            self._sleep(min(self.max_sleep_s, (1 - self._tokens) / self.rate_per_s))
        return False


class _Tally:
    """Counts of one batch or run, updated from delivery callbacks."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.sent = self.acked = self.failed = 0
        self.first_error = ""
        self._lock = threading.Lock()

    def count(self, outcome: str, error: str = "") -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            if error and not self.first_error:
                self.first_error = error

    def stats(self, now: float) -> InjectionStats:
        seconds = max(0.0, now - self.started)
        rate = self.acked / seconds if seconds > 0 else 0.0
        return InjectionStats(self.sent, self.acked, self.failed, seconds, rate)


def _producer_config(bootstrap_servers: str,
                     overrides: dict[str, Any] | None) -> dict[str, Any]:
    config: dict[str, Any] = {"bootstrap.servers": bootstrap_servers,
                              "enable.idempotence": True, "acks": "all", "linger.ms": 20}
    config.update(overrides or {})
    for name, allowed in _REQUIRED.items():
        if config[name] not in allowed:
            raise ConfigError(f"producer_config sets {name}={config[name]!r}; the ledger can "
                              "only vouch for acknowledged records with enable.idempotence="
                              f"true and acks=all: remove {name} from producer_config")
    return config


class KafkaInjector:
    """Produces JSON records to one topic and records every send and outcome in a ledger.

    Use it as a context manager: leaving the block stops a background run and flushes.

    Args:
        bootstrap_servers: Kafka bootstrap servers.
        topic: The topic to produce to.
        ledger: Where sends, acknowledgements and failures are recorded.
        key_field: The record field whose ``str()`` is the Kafka key.
        rate_per_s: Records per second for :meth:`send` (and :meth:`start` by default);
            None produces as fast as possible.
        producer_config: librdkafka settings layered over the defaults; idempotence and
            ``acks=all`` cannot be turned off.
        producer_factory: Builds the producer from its config; defaults to
            ``confluent_kafka.Producer`` (tests pass a fake).
        flush_timeout_s: How long :meth:`send` and :meth:`stop` wait for acknowledgements.
        clock: Monotonic clock; sleep: sleep function (both injectable for tests).
    """

    def __init__(self, bootstrap_servers: str, topic: str, *, ledger: Ledger, key_field: str,
                 rate_per_s: float | None = None, producer_config: dict[str, Any] | None = None,
                 producer_factory: Callable[[dict[str, Any]], ProducerLike] | None = None,
                 flush_timeout_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 encode_value: Callable[[Record], bytes] | None = None,
                 encode_key: Callable[[Record], bytes] | None = None) -> None:
        self.topic, self.ledger, self.key_field = topic, ledger, key_field
        self._encode_value = encode_value or json_value
        self._encode_key = encode_key
        self.rate_per_s = rate_per_s
        self.flush_timeout_s = flush_timeout_s
        self.config = _producer_config(bootstrap_servers, producer_config)
        self._clock, self._sleep = clock, sleep
        self._limiter(rate_per_s)  # reject a bad rate now, not at the first send
        factory = producer_factory or Producer
        self._producer: ProducerLike = factory(self.config)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._run_tally: _Tally | None = None
        self._run_error: BaseException | None = None

    @property
    def running(self) -> bool:
        """Whether a background run is under way."""
        return self._thread is not None

    def send(self, records: Iterable[Record]) -> InjectionStats:
        """Produce ``records`` (at ``rate_per_s`` if set) and wait until all are delivered.

        Raises:
            InjectionError: A delivery failed, or the flush timed out; a background run is
                under way. The error carries the stats.
        """
        if self.running:
            raise InjectionError("a background run is under way; call stop() before send()")
        tally = _Tally(self._clock())
        limiter = self._limiter(self.rate_per_s)
        for record in records:
            if limiter is not None:
                limiter.acquire()
            self._produce(record, tally)
        return self._finish(tally)

    def start(self, record_source: Callable[[], Record], *,
              rate_per_s: float | None = None) -> None:
        """Produce ``record_source()`` records from a background thread until :meth:`stop`.

        Args:
            record_source: Called once per record, e.g. ``generator.record``.
            rate_per_s: Records per second; defaults to the injector's ``rate_per_s``. A
                background run needs one, so it cannot flood the broker unnoticed.

        Raises:
            InjectionError: A background run is already under way.
            ConfigError: No rate was given here or to the injector.
        """
        if self.running:
            raise InjectionError("a background run is already under way; call stop() first")
        limiter = self._limiter(rate_per_s if rate_per_s is not None else self.rate_per_s)
        if limiter is None:
            raise ConfigError("a background run needs a rate: pass rate_per_s to start() "
                              "or to KafkaInjector")
        self._stop.clear()
        self._run_error = None
        self._run_tally = tally = _Tally(self._clock())
        self._thread = threading.Thread(target=self._run, args=(record_source, limiter, tally),
                                        name=f"injector-{self.topic}", daemon=True)
        self._thread.start()

    def _run(self, record_source: Callable[[], Record], limiter: RateLimiter,
             tally: _Tally) -> None:
        try:
            while limiter.acquire(stop=self._stop):
                self._produce(record_source(), tally)
        except BaseException as exc:  # reported by stop(); a thread cannot raise to its owner
            self._run_error = exc

    def stop(self, *, timeout_s: float = 10.0) -> InjectionStats:
        """End the background run, flush, and report what it sent.

        Raises:
            InjectionError: No run is under way; the thread did not end within
                ``timeout_s`` (``record_source`` blocks); ``record_source`` raised; a
                delivery failed or the flush timed out.
        """
        thread, tally = self._thread, self._run_tally
        if thread is None or tally is None:
            raise InjectionError("no background run is under way; call start() first")
        self._stop.set()
        thread.join(timeout_s)
        if thread.is_alive():
            raise InjectionError(f"the background producer of {self.topic!r} did not stop "
                                 f"within {timeout_s}s; record_source must return promptly")
        self._thread = self._run_tally = None
        stats = self._finish(tally)
        if self._run_error is not None:
            raise InjectionError(f"the background run ended on {self._run_error!r} after "
                                 f"{stats.sent} records; fix record_source or the records "
                                 "it returns", stats) from self._run_error
        return stats

    def _limiter(self, rate_per_s: float | None) -> RateLimiter | None:
        if rate_per_s is None:
            return None
        return RateLimiter(rate_per_s, clock=self._clock, sleep=self._sleep)

    def _key(self, record: Record) -> str:
        if self.key_field not in record:
            raise InjectionError(f"record has no key field {self.key_field!r} (fields: "
                                 f"{', '.join(record)}); set key_field to one of them")
        return str(record[self.key_field])

    def _produce(self, record: Record, tally: _Tally) -> None:
        """Hand one record to the producer; it is in the ledger before it can be delivered."""
        key = self._key(record)
        value = self._encode_value(record)
        key_bytes = self._encode_key(record) if self._encode_key else key.encode()
        self.ledger.sent(self.topic, key, record)
        tally.count("sent")
        callback = self._on_delivery(key, tally)
        while True:
            try:
                self._producer.produce(self.topic, value=value, key=key_bytes,
                                       on_delivery=callback)
                break
            except BufferError:  # local queue full: serve deliveries to make room
                if self._stop.is_set() and self.running:
                    callback("stopped while the producer's queue was full", None)
                    return
                self._producer.poll(0.1)
            except KafkaException as exc:
                callback(str(exc), None)
                return
        self._producer.poll(0)

    def _on_delivery(self, key: str, tally: _Tally) -> DeliveryCallback:
        def callback(error: Any, message: Any) -> None:
            if error is not None:
                self.ledger.failed(self.topic, key, str(error))
                tally.count("failed", str(error))
            else:
                self.ledger.acked(self.topic, key, message.partition(), message.offset())
                tally.count("acked")
        return callback

    def _finish(self, tally: _Tally) -> InjectionStats:
        """Flush, then raise unless every record of ``tally`` was acknowledged."""
        unflushed = self._producer.flush(self.flush_timeout_s)
        stats = tally.stats(self._clock())
        problems = []
        if stats.failed:
            problems.append(f"{stats.failed} of {stats.sent} records failed delivery "
                            f"(first error: {tally.first_error})")
        if unflushed:
            problems.append(f"{unflushed} records still unacknowledged after "
                            f"{self.flush_timeout_s}s; check that the broker at "
                            f"{self.config['bootstrap.servers']} is reachable, or raise "
                            "flush_timeout_s")
        if problems:
            raise InjectionError(f"producing to {self.topic!r}: " + "; ".join(problems)
                                 + "; ledger.unacked()/failures() list the keys", stats)
        return stats

    def close(self) -> None:
        """Stop a background run, if any, and flush what is queued."""
        if self.running:
            self.stop()
        self._producer.flush(self.flush_timeout_s)

    def __enter__(self) -> KafkaInjector:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc is None:
            self.close()
            return
        try:  # keep the original error; report a failed stop alongside it
            self.close()
        except CutoverError as close_error:
            exc.add_note(f"while stopping the injector of {self.topic!r}: {close_error}")
