"""Deployers: put statements (and later service versions) in place, promote, roll back."""

from harness.deploy.flink import FlinkDeployer

__all__ = ["FlinkDeployer"]
