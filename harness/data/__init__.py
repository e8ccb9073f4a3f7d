"""Synthetic data for scenarios: table columns, record generators, a delivery ledger, and
a Kafka injector that produces records while recording what the broker acknowledged."""

from harness.data.generator import GeneratorError, RecordGenerator, ValueFactory
from harness.data.injector import (
    InjectionError,
    InjectionStats,
    KafkaInjector,
    ProducerLike,
    RateLimiter,
)
from harness.data.ledger import Ledger, LedgerError, Record
from harness.data.schema import (
    Column,
    DataType,
    SchemaError,
    columns_from_ddl,
    parse_type,
    primary_key_from_ddl,
)

__all__ = [
    "Column",
    "DataType",
    "GeneratorError",
    "InjectionError",
    "InjectionStats",
    "KafkaInjector",
    "Ledger",
    "LedgerError",
    "ProducerLike",
    "RateLimiter",
    "Record",
    "RecordGenerator",
    "SchemaError",
    "ValueFactory",
    "columns_from_ddl",
    "parse_type",
    "primary_key_from_ddl",
]
