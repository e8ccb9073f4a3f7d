"""Flink SQL pipeline projects: their table DAG, and what a blue/green change redeploys.

``load_pipeline`` reads a shift_left project or a plain folder of .sql files,
``plan_change`` says which statements move to new table versions, and
``changed_tables_between`` finds the changed tables between two git refs.
"""

from harness.pipeline.errors import PipelineError
from harness.pipeline.gitrefs import changed_tables_between
from harness.pipeline.loader import load_pipeline
from harness.pipeline.model import LAYERS, PipelineModel, TableStatement
from harness.pipeline.plan import ImpactPlan, Redeploy, next_version, plan_change
from harness.pipeline.sqlrefs import created_table, read_tables, rename_tables, written_table

__all__ = [
    "LAYERS",
    "ImpactPlan",
    "PipelineError",
    "PipelineModel",
    "Redeploy",
    "TableStatement",
    "changed_tables_between",
    "created_table",
    "load_pipeline",
    "next_version",
    "plan_change",
    "read_tables",
    "rename_tables",
    "written_table",
]
