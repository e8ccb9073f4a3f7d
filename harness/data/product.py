"""Synthetic records for any product, following its data plan, with one ledger.

Each external source has a :class:`~harness.data.generator.RecordGenerator` built from its
columns, with overrides that draw referencing columns from the keys already sent for the
parent, keep filtered columns inside the filters and make event-time columns (those a
WATERMARK reads) advance with the record sequence. Sends block until acknowledged, and the
ledger records every send and acknowledgement: it is what ``nothing_lost`` expects.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from harness.data.encoding import RecordEncoding
from harness.data.generator import RecordGenerator, ValueFactory
from harness.data.injector import InjectionStats, KafkaInjector
from harness.data.ledger import Ledger
from harness.data.plan import (
    EVENT_TIME_BASE,
    EVENT_TIME_STEP_S,
    DataPlan,
    DataPlanError,
    SourcePlan,
)
from harness.data.schema import Column
from harness.pipeline.lineage import Predicate

Record = dict[str, Any]


def _bounds(predicates: list[Predicate]) -> tuple[float | None, float | None, bool]:
    """Lowest and highest allowed value of numeric range predicates, and integrality."""
    low: float | None = None
    high: float | None = None
    integral = True
    for p in predicates:
        values = [v for v in p.values if isinstance(v, int | float) and not isinstance(v, bool)]
        integral = integral and all(isinstance(v, int) for v in values)
        if p.op == "between" and len(values) == 2:
            low = max(low, min(values)) if low is not None else min(values)
            high = min(high, max(values)) if high is not None else max(values)
        elif p.op in (">=", ">") and values:
            step = 1 if p.op == ">" else 0
            low = max(low, values[0] + step) if low is not None else values[0] + step
        elif p.op in ("<=", "<") and values:
            step = 1 if p.op == "<" else 0
            high = min(high, values[0] - step) if high is not None else values[0] - step
    return low, high, integral


def satisfying(column: Column, predicates: list[Predicate]) -> ValueFactory | None:
    """A value factory whose values pass ``predicates``; None when the default does."""
    for p in predicates:
        if p.op == "=" and p.values:
            value = p.values[0]
            return lambda rng, seq: value
        if p.op == "in" and p.values:
            choices = list(p.values)
            return lambda rng, seq: rng.choice(choices)
    low, high, integral = _bounds(predicates)
    if low is None and high is None:
        return None
    integral = integral or column.data_type.name in ("INT", "BIGINT", "SMALLINT", "TINYINT")
    lo = low if low is not None else (high or 0) - 1000
    hi = high if high is not None else lo + 1000
    if integral:
        return lambda rng, seq: rng.randint(int(lo), int(hi))
    return lambda rng, seq: round(rng.uniform(lo, hi), 4)


def advancing(column: Column) -> ValueFactory:
    """Event time of record ``seq``: the plan's base plus ``seq`` steps, as the column's type.

    TIMESTAMP(p) as ``'YYYY-MM-DD HH:MM:SS.sss'`` (min(p, 3) fraction digits, as
    :mod:`harness.data.generator` writes them), TIMESTAMP_LTZ the same with ``Z``, BIGINT as
    epoch milliseconds, text as ``'YYYY-MM-DD HH:MM:SS'``.

    Raises:
        DataPlanError: The column's type cannot hold an event time.
    """
    data_type = column.data_type
    step = dt.timedelta(seconds=EVENT_TIME_STEP_S)
    if data_type.name == "BIGINT":
        base_ms = round(EVENT_TIME_BASE.replace(tzinfo=dt.UTC).timestamp() * 1000)
        step_ms = EVENT_TIME_STEP_S * 1000
        return lambda rng, seq: base_ms + seq * step_ms
    if data_type.name in ("STRING", "VARCHAR"):
        return lambda rng, seq: f"{EVENT_TIME_BASE + seq * step:%Y-%m-%d %H:%M:%S}"
    if data_type.name not in ("TIMESTAMP", "TIMESTAMP_LTZ"):
        raise DataPlanError(f"column {column.name!r} is {column.type}, which cannot hold an "
                            "event time; use TIMESTAMP(3) or BIGINT epoch milliseconds")
    digits = min((data_type.params or (6,))[0], 3)
    suffix = "Z" if data_type.name == "TIMESTAMP_LTZ" else ""

    def value(rng: random.Random, seq: int) -> str:
        moment = EVENT_TIME_BASE + seq * step
        fraction = f".{moment.microsecond // 1000:03d}"[:digits + 1] if digits else ""
        return f"{moment:%Y-%m-%d %H:%M:%S}{fraction}{suffix}"
    return value


class ProductData:
    """Generators and injectors of every external source, sharing one ledger.

    Args:
        plan: The data plan.
        bootstrap_servers: Kafka of the stack.
        topic_of: Source table -> its topic.
        seed: Seed of all values.
        ledger: Where sends and acknowledgements are recorded.
    """

    def __init__(self, plan: DataPlan, *, bootstrap_servers: str,
                 topic_of: Callable[[str], str], seed: int, ledger: Ledger | None = None,
                 encodings: Mapping[str, RecordEncoding] | None = None) -> None:
        self.plan, self.bootstrap_servers, self.topic_of = plan, bootstrap_servers, topic_of
        self.encodings = dict(encodings or {})  # source -> how it is written (default JSON)
        self.seed = seed
        self.ledger = ledger or Ledger()
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self.sent_keys: dict[str, list[Any]] = {p.table: [] for p in plan.sources}
        self.generators = {p.table: self._generator(i, p) for i, p in enumerate(plan.sources)}
        self.duplicates_sent: dict[str, int] = {p.table: 0 for p in plan.sources}

    def _generator(self, index: int, source: SourcePlan) -> RecordGenerator:
        overrides: dict[str, ValueFactory] = {}
        for column in source.columns:
            factory = satisfying(column, source.predicates.get(column.name, []))
            if factory is not None:
                overrides[column.name] = factory
            if column.name in source.event_time:
                overrides[column.name] = advancing(column)
        for name, parent in source.references.items():
            overrides[name] = self._draw_from(parent.table)
        overrides.pop(source.key, None)
        prefix = f"{source.table[:1].upper()}{index}-"
        return RecordGenerator(source.columns, key=source.key, seed=self.seed + 7919 * index,
                               id_prefix=prefix, overrides=overrides)

    def _draw_from(self, parent: str) -> ValueFactory:
        def draw(rng: random.Random, seq: int) -> Any:
            with self._lock:
                keys = self.sent_keys[parent]
                if not keys:
                    raise RuntimeError(f"no key of {parent} sent yet; seed parents first")
                return keys[rng.randrange(len(keys))]
        return draw

    def injector(self, table: str, *, rate_per_s: float | None = None) -> KafkaInjector:
        encoding = self.encodings.get(table, RecordEncoding())
        return KafkaInjector(self.bootstrap_servers, self.topic_of(table), ledger=self.ledger,
                             key_field=self.plan.source(table).key, rate_per_s=rate_per_s,
                             encode_value=encoding.value, encode_key=encoding.key)

    def next_records(self, table: str, count: int) -> list[Record]:
        """``count`` new records of ``table``, plus the dedup duplicates its plan asks for."""
        source = self.plan.source(table)
        records = []
        parent = source.references.get(source.key)  # a 1:1 child: its key is a parent's
        for _ in range(count):
            record = self.generators[table].record()
            with self._lock:
                if parent is not None:
                    keys = self.sent_keys[parent.table]
                    record[source.key] = keys[len(self.sent_keys[table]) % len(keys)]
                self.sent_keys[table].append(record[source.key])
            records.append(record)
        if source.duplicates_pct:
            again = max(1, round(count * source.duplicates_pct / 100)) if count else 0
            copies = [dict(r) for r in self.rng.sample(records, min(again, len(records)))]
            self.duplicates_sent[table] += len(copies)
            records += copies
        return records

    def next_record(self, table: str) -> Record:
        """One new record of ``table`` (for a live feed)."""
        return self.next_records(table, 1)[0]

    def send(self, table: str, count: int) -> InjectionStats:
        """Generate and send ``count`` records of ``table``; blocks until acknowledged."""
        with self.injector(table) as injector:
            return injector.send(self.next_records(table, count))

    def seed_all(self, *, scale: float = 1.0,
                 progress: Callable[[str], None] | None = None) -> dict[str, InjectionStats]:
        """Send every source its planned records (times ``scale``), parents first."""
        stats = {}
        for source in self.plan.sources:
            count = max(1, round(source.count * scale))
            stats[source.table] = self.send(source.table, count)
            if progress is not None:
                progress(f"sent {stats[source.table].acked} records to {source.table}")
        return stats

    def acked(self, table: str) -> set[str]:
        """Keys of ``table`` the broker acknowledged, as text."""
        return {str(k) for k in self.ledger.acked_keys(self.topic_of(table))}

    def latest(self, table: str) -> dict[str, Record]:
        """The latest acknowledged record of every key of ``table``."""
        return self.ledger.latest_acked(self.topic_of(table))
