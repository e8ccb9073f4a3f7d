"""What a statement's use of a column says about its type, for raw topics without DDL.

A column read by a time function (HOUR, EXTRACT, ...) is a TIMESTAMP; one read only
through ``CAST(x AS T)`` for a temporal, numeric or boolean ``T`` is generated as ``T``,
so its values cast.
"""

from __future__ import annotations

import re

from sqlglot import exp

from harness.pipeline.predicates import function_name

CASTABLE = re.compile(r"^(DATE|TIMESTAMP(\(\d\))?|TIME|INT|BIGINT|SMALLINT|TINYINT|DOUBLE|FLOAT|"
                      r"BOOLEAN|DECIMAL(\(\d+, ?\d+\))?)$")

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
