"""Functions whose argument is a point in time: a column one reads is a TIMESTAMP.

Used to type the columns of raw topics a project has no DDL for.
"""

from __future__ import annotations

from sqlglot import exp

from harness.pipeline.predicates import function_name

# Functions whose argument is a point in time: a column read by one is a TIMESTAMP.
TEMPORAL = (exp.Hour, exp.Minute, exp.Second, exp.DayOfWeek, exp.DayOfMonth, exp.DayOfYear,
             exp.Week, exp.Month, exp.Quarter, exp.Year, exp.Extract, exp.TimeToStr,
             exp.TimestampDiff, exp.TimestampAdd, exp.DateDiff)
TEMPORAL_NAMES = frozenset({"HOUR", "MINUTE", "SECOND", "DAYOFWEEK", "DAYOFMONTH",
                             "DAYOFYEAR", "WEEK", "MONTH", "QUARTER", "YEAR",
                             "TIMESTAMPDIFF", "TIMESTAMPADD", "DATE_FORMAT", "UNIX_TIMESTAMP"})


def is_time_function(node: object) -> bool:
    """Whether ``node`` is a call whose argument is a point in time (HOUR, EXTRACT, ...)."""
    return isinstance(node, TEMPORAL) or (
        isinstance(node, exp.Anonymous) and function_name(node) in TEMPORAL_NAMES)
