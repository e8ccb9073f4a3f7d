"""Synthetic data for scenarios: table columns, record generators, a delivery ledger, a
Kafka injector that produces records while recording what the broker acknowledged, and a
PostgreSQL writer that records what it committed."""

from harness.data.generator import GeneratorError, RecordGenerator, ValueFactory
from harness.data.injector import (
    InjectionError,
    InjectionStats,
    KafkaInjector,
    ProducerLike,
    RateLimiter,
)
from harness.data.ledger import Ledger, LedgerError, Record
from harness.data.postgres_writer import Commit, PostgresWriter, RowLedger
from harness.data.schema import (
    Column,
    DataType,
    SchemaError,
    columns_from_ddl,
    parse_type,
    primary_key_from_ddl,
)
from harness.data.write_loop import WriteLoop

__all__ = [
    "Column",
    "Commit",
    "DataType",
    "GeneratorError",
    "InjectionError",
    "InjectionStats",
    "KafkaInjector",
    "Ledger",
    "LedgerError",
    "PostgresWriter",
    "ProducerLike",
    "RateLimiter",
    "Record",
    "RecordGenerator",
    "RowLedger",
    "SchemaError",
    "ValueFactory",
    "WriteLoop",
    "columns_from_ddl",
    "parse_type",
    "primary_key_from_ddl",
]
