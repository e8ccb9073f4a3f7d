"""Talking to Flink: SQL Gateway sessions and statements, and the cluster's REST API."""

from harness.flink.errors import FlinkError, StatementError
from harness.flink.gateway import SqlGatewaySession, StatementResult
from harness.flink.rest import FlinkRestClient, JobStatus
from harness.flink.settle import Settler, SettleStatus, SettleTimeout
from harness.flink.statement import Statement

__all__ = [
    "FlinkError",
    "FlinkRestClient",
    "JobStatus",
    "SettleStatus",
    "SettleTimeout",
    "Settler",
    "SqlGatewaySession",
    "Statement",
    "StatementError",
    "StatementResult",
]
