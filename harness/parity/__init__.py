"""Parity across backends: a PostgreSQL table or view against its Iceberg table, by key."""

from harness.parity.diff import DiffSpec, KeyDifference, ParityError, TableDiff, diff_tables
from harness.parity.gate import (
    ParityCheck,
    ParityVerdict,
    parity_check,
    parity_gate,
    run_parity,
)
from harness.parity.sources import IcebergSide, PostgresRelation, PostgresSnapshot

__all__ = ["DiffSpec", "IcebergSide", "KeyDifference", "ParityCheck", "ParityError",
           "ParityVerdict", "PostgresRelation", "PostgresSnapshot", "TableDiff", "diff_tables",
           "parity_check", "parity_gate", "run_parity"]
