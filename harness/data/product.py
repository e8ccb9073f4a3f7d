"""Synthetic records for any product, following its data plan, with one ledger.

Each external source has a :class:`~harness.data.generator.RecordGenerator` built from its
columns, with overrides that draw referencing columns from the keys already sent for the
parent and keep filtered columns inside the filters. Sends block until acknowledged, and
the ledger records every send and acknowledgement: it is what ``nothing_lost`` expects.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from harness.data.generator import RecordGenerator, ValueFactory
from harness.data.injector import InjectionStats, KafkaInjector
from harness.data.ledger import Ledger
from harness.data.plan import DataPlan, SourcePlan
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
                 topic_of: Callable[[str], str], seed: int, ledger: Ledger | None = None) -> None:
        self.plan, self.bootstrap_servers, self.topic_of = plan, bootstrap_servers, topic_of
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
        return KafkaInjector(self.bootstrap_servers, self.topic_of(table), ledger=self.ledger,
                             key_field=self.plan.source(table).key, rate_per_s=rate_per_s)

    def next_records(self, table: str, count: int) -> list[Record]:
        """``count`` new records of ``table``, plus the dedup duplicates its plan asks for."""
        source = self.plan.source(table)
        records = []
        for _ in range(count):
            record = self.generators[table].record()
            with self._lock:
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
