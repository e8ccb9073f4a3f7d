"""Confluent Cloud Flink SQL tables adapted for open-source Flink 1.20 and its Kafka connectors.

In Confluent Cloud a CREATE TABLE is a Kafka topic of the same name, its formats are
schema-registry formats and its changelog mode is an option. Open-source Flink needs the
connector spelled out: ``kafka`` (connector 3.4.0-1.20) for append-only tables and
``upsert-kafka`` for tables keyed by a PRIMARY KEY.

The adaptation rewrites only the ``WITH (...)`` block and removes the ``DISTRIBUTED ...``
clause (neither OSS Kafka connector supports bucketing; its bucket count becomes the topic's
partition count instead). Every other byte of the statement (columns, computed columns,
watermarks, comments, the PRIMARY KEY) is kept, so the pipeline under test is the one that
was written. The text is spliced, never regenerated: :mod:`harness.pipeline.ddl` finds the
two clauses while respecting quotes, backticks and comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.data.schema import SchemaError, columns_from_ddl
from harness.errors import CutoverError
from harness.pipeline.ddl import CreateTable, DdlError, parse_create_table, replace_options


class DialectError(CutoverError):
    """A Confluent Cloud table has no faithful equivalent on the open-source stack."""


@dataclass(frozen=True)
class KafkaTarget:
    """Where adapted tables live: the local stack's Kafka and schema registry.

    Attributes:
        bootstrap_servers: Kafka bootstrap servers of the stack.
        topic_prefix: Prepended to each table name to form its topic (namespace isolation).
        schema_registry_url: Confluent-compatible registry URL; empty when the stack has none.
        startup_mode: ``scan.startup.mode`` for ``kafka`` tables that do not set one.
        group_prefix: When set, ``properties.group.id`` is this prefix plus the table name.
        flink_bootstrap_servers: What the statements connect to when it differs from
            ``bootstrap_servers`` (a listener behind a fault proxy); the harness's own
            clients keep ``bootstrap_servers``.
    """

    bootstrap_servers: str
    topic_prefix: str = ""
    schema_registry_url: str = ""
    startup_mode: str = "earliest-offset"
    group_prefix: str = ""
    flink_bootstrap_servers: str = ""


@dataclass(frozen=True)
class AdaptedDdl:
    """One adapted statement and what the adaptation decided.

    Attributes:
        sql: The statement to run on open-source Flink.
        table: The table's own name (last part of a dotted name, unquoted); empty if the
            statement is not a CREATE TABLE.
        topic: The Kafka topic the table reads and writes.
        connector: ``kafka`` or ``upsert-kafka`` (or the connector an OSS DDL already named).
        partitions: Bucket count of the DISTRIBUTED clause, for creating the topic; None if absent.
        dropped_options: Confluent-only options removed, as written (key to value).
        passed_options: Options kept that the adaptation does not translate (key to value).
        warnings: Behaviour that differs from Confluent Cloud, each naming what to change.
    """

    sql: str
    table: str = ""
    topic: str = ""
    connector: str = ""
    partitions: int | None = None
    dropped_options: dict[str, str] = field(default_factory=dict)
    passed_options: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# Confluent format name -> open-source Flink format name.
_FORMATS = {"avro-registry": "avro-confluent", "avro-confluent": "avro-confluent",
            "avro-debezium-registry": "debezium-avro-confluent",
            "debezium-avro-confluent": "debezium-avro-confluent",
            "json-debezium-registry": "debezium-json", "debezium-json": "debezium-json",
            "json-registry": "json", "json": "json", "avro": "avro", "csv": "csv", "raw": "raw"}
_REGISTRY_FORMATS = {"avro-confluent", "debezium-avro-confluent"}
# Debezium change events: an insert/update/delete changelog read by the kafka connector.
_CDC_FORMATS = {"debezium-avro-confluent", "debezium-json"}
_DEFAULT_FORMAT = "avro-registry"  # Confluent's default for both key.format and value.format
_CHANGELOG_MODES = ("append", "upsert", "retract")
_ERROR_MODES = ("fail", "ignore", "log")
_ISOLATION_LEVELS = {"read-committed": "read_committed", "read-uncommitted": "read_uncommitted"}
_DROPPED_PREFIXES = ("kafka.", "confluent.", "error-handling.")
_REGISTRY_SUBOPTION = re.compile(r"^(key\.|value\.)?(avro|json|proto)-registry\.")
_FIELDS_INCLUDE = {"all": "ALL", "except-key": "EXCEPT_KEY", "except_key": "EXCEPT_KEY"}


def adapt_ddl(ddl: str, target: KafkaTarget) -> str:
    """Return ``ddl`` rewritten for open-source Flink; see :func:`adapt_ddl_detailed`."""
    return adapt_ddl_detailed(ddl, target).sql


def topic_partitions(ddl: str) -> int | None:
    """Bucket count of the table's ``DISTRIBUTED ... INTO n BUCKETS`` clause, or None."""
    table = _parse_table(ddl)
    if table is None or table.distribution is None:
        return None
    return table.distribution.buckets


def _parse_table(ddl: str) -> CreateTable | None:
    """The statement's CREATE TABLE parts, or None for another statement."""
    try:
        return parse_create_table(ddl)
    except DdlError as error:
        raise DialectError(str(error)) from error


def adapt_ddl_detailed(ddl: str, target: KafkaTarget) -> AdaptedDdl:
    """Adapt one Confluent Cloud CREATE TABLE statement for the local stack.

    Statements other than CREATE TABLE are returned unchanged, and so is a CREATE TABLE whose
    options already name a ``connector``: it is open-source Flink SQL already and is left
    alone, DISTRIBUTED clause included.

    Args:
        ddl: One SQL statement.
        target: The local stack's Kafka, registry and naming.

    Returns:
        The adapted statement and the decisions taken.

    Raises:
        DialectError: The table cannot be expressed with the OSS Kafka connectors on this
            stack (retract or upsert without a PRIMARY KEY, a registry format without a
            registry, an unsupported format); the message names the fix.
    """
    table = _parse_table(ddl)
    if table is None:
        return AdaptedDdl(sql=ddl)
    partitions = table.distribution.buckets if table.distribution else None
    options = _option_map(table)
    if "connector" in options:
        return AdaptedDdl(sql=ddl, table=table.name, topic=options.get("topic", ("", ""))[1],
                          connector=options["connector"][1], partitions=partitions,
                          passed_options=dict(options.values()))
    plan = _plan(table, options, target, ltz=_has_ltz(ddl))
    sql = replace_options(ddl, table, plan.options, drop_distribution=True)
    if plan.options["connector"] == "kafka" and table.primary_key:
        sql = _drop_primary_key(sql)
    return AdaptedDdl(sql=sql, table=table.name,
                      topic=plan.options["topic"], connector=plan.options["connector"],
                      partitions=partitions, dropped_options=plan.dropped,
                      passed_options=plan.passed, warnings=plan.warnings)


_CREATE = re.compile(r"(CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[^(]+\()",
                     re.IGNORECASE)
ROWTIME_COLUMN = "`$rowtime` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL"


def with_rowtime(sql: str) -> str:
    """``sql`` with Confluent's system column ``$rowtime`` declared as the Kafka record's
    timestamp (VIRTUAL: read, never written), unless it declares one already."""
    if "$rowtime" in sql:
        return sql
    return _CREATE.sub(lambda m: f"{m.group(1)}{ROWTIME_COLUMN}, ", sql, count=1)


_TABLE_KEY = re.compile(r",(?:\s|--[^\n]*\n)*(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY\s*\([^)]*\)"
                        r"\s*NOT\s+ENFORCED", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+PRIMARY\s+KEY\s+NOT\s+ENFORCED", re.IGNORECASE)


def _drop_primary_key(sql: str) -> str:
    """The statement without its PRIMARY KEY constraint (table or column form)."""
    dropped = _TABLE_KEY.sub("", sql, count=1)
    return dropped if dropped != sql else _COLUMN_KEY.sub("", sql, count=1)


# ---------------------------------------------------------------------------------------------
# Mapping Confluent options to OSS connector options
# ---------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    options: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)
    passed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _plan(table: CreateTable, options: dict[str, tuple[str, str]], target: KafkaTarget, *,
          ltz: bool = False) -> _Plan:
    """Choose the connector and build its options; ``options`` maps lower-case keys."""
    values = {key: value for key, (_, value) in options.items()}
    connector = _connector(table, values)
    plan = _Plan({"connector": connector, "topic": target.topic_prefix + table.name,
                  "properties.bootstrap.servers": target.flink_bootstrap_servers
                  or target.bootstrap_servers})
    if target.group_prefix:
        plan.options["properties.group.id"] = target.group_prefix + table.name
    if connector == "kafka":
        plan.options["scan.startup.mode"] = values.get("scan.startup.mode", target.startup_mode)
    plan.options["properties.isolation.level"] = _isolation(table, values)
    plan.options.update(_formats(table, values, connector, target, plan, ltz=ltz))
    plan.options.update(_error_handling(table, values, plan))
    translated = {"key.format", "value.format", "format", "kafka.consumer.isolation-level",
                  "error-handling.mode"}
    if connector == "kafka":
        translated.add("scan.startup.mode")
    for key, (written, value) in options.items():
        if key in translated:
            continue
        if _confluent_only(key, connector):
            plan.dropped[written] = value
        elif key in plan.options:
            plan.warnings.append(f"option {written!r} = {value!r} replaced by the adapted "
                                 f"value {plan.options[key]!r}")
        else:
            if key == "value.fields-include":
                value = _FIELDS_INCLUDE.get(value.lower(), value)
            plan.passed[written] = value
    plan.options.update(plan.passed)
    plan.warnings.extend(_semantic_warnings(table, values, connector))
    return plan


def _error_handling(table: CreateTable, values: dict[str, str], plan: _Plan) -> dict[str, str]:
    """Confluent Cloud's 'error-handling.mode' for records that cannot be deserialized:
    'fail' (the default) stops the statement; 'ignore' and 'log' skip them, which JSON
    formats do with '<prefix>json.ignore-parse-errors'. Open-source Flink has no
    dead-letter table for 'log': the skipped records stay in the topic only."""
    mode = values.get("error-handling.mode", "fail").strip().lower()
    if mode not in _ERROR_MODES:
        raise DialectError(f"table {table.name!r}: 'error-handling.mode' = {mode!r} is not one "
                           f"of {', '.join(_ERROR_MODES)}")
    if mode == "fail":
        return {}
    options = {}
    for prefix in ("", "key.", "value."):
        fmt = plan.options.get(f"{prefix}format", "")
        if fmt == "json":
            options[f"{prefix}json.ignore-parse-errors"] = "true"
        elif fmt:
            plan.warnings.append(
                f"table {table.name!r}: 'error-handling.mode' = {mode!r} cannot skip bad "
                f"records of format {fmt!r} in open-source Flink; one fails the statement")
    if mode == "log":
        plan.warnings.append(
            f"table {table.name!r}: 'error-handling.mode' = 'log' skips bad records; "
            "open-source Flink writes no dead-letter table (they stay in the topic)")
    return options


def _isolation(table: CreateTable, values: dict[str, str]) -> str:
    """The consumer's isolation level: Confluent Cloud reads committed records only
    unless 'kafka.consumer.isolation-level' says otherwise; open-source Kafka consumers
    read uncommitted ones (records of aborted transactions too) unless told."""
    level = values.get("kafka.consumer.isolation-level", "read-committed").strip().lower()
    if level not in _ISOLATION_LEVELS:
        raise DialectError(f"table {table.name!r}: 'kafka.consumer.isolation-level' = "
                           f"{level!r} is not one of {', '.join(_ISOLATION_LEVELS)}")
    return _ISOLATION_LEVELS[level]


def _connector(table: CreateTable, values: dict[str, str]) -> str:
    """``kafka`` for append tables, ``upsert-kafka`` for upsert and retract tables."""
    mode = values.get("changelog.mode", "").strip().lower()
    value = values.get("value.format") or values.get("format") or ""
    if _FORMATS.get(value.strip().lower()) in _CDC_FORMATS:
        return "kafka"  # the format carries the changelog; the key is not read
    if not mode:
        return "upsert-kafka" if table.primary_key else "kafka"
    if mode not in _CHANGELOG_MODES:
        raise DialectError(f"table {table.name!r}: 'changelog.mode' = {mode!r} is not one of "
                           f"{', '.join(_CHANGELOG_MODES)}; fix the option")
    if mode == "append":
        return "kafka"
    if not table.primary_key and mode == "retract":
        raise DialectError(
            f"table {table.name!r}: open-source Kafka connectors have no retract changelog; "
            "declare a PRIMARY KEY (... ) NOT ENFORCED so the table maps to upsert-kafka")
    if not table.primary_key:
        raise DialectError(
            f"table {table.name!r}: 'changelog.mode' = 'upsert' needs a PRIMARY KEY, which "
            "upsert-kafka uses as the message key; declare PRIMARY KEY (...) NOT ENFORCED")
    return "upsert-kafka"


def _formats(table: CreateTable, values: dict[str, str], connector: str, target: KafkaTarget,
             plan: _Plan, *, ltz: bool = False) -> dict[str, str]:
    """Key and value format options; Confluent defaults both formats to avro-registry."""
    value = values.get("value.format") or values.get("format") or _DEFAULT_FORMAT
    key = values.get("key.format")
    if _FORMATS.get(value.strip().lower()) == "avro-confluent" and ltz:
        plan.warnings.append(
            f"table {table.name!r}: open-source Flink's avro-confluent format cannot write "
            "TIMESTAMP_LTZ columns (Confluent Cloud's avro-registry can), so on the stack this "
            "table is written as JSON; the SQL is unchanged")
        value = "json-registry"
        key = "json-registry" if key else key
    if connector == "upsert-kafka":
        return {**_format(table, "key.", key or _DEFAULT_FORMAT, target),
                **_format(table, "value.", value, target)}
    key_columns = table.primary_key or (table.distribution.columns if table.distribution else ())
    if _FORMATS.get(value.strip().lower()) in _CDC_FORMATS:
        if key:
            plan.dropped["key.format"] = key
        return _format(table, "", value, target)
    if key and key_columns:
        return {**_format(table, "key.", key, target), "key.fields": ";".join(key_columns),
                **_format(table, "value.", value, target)}
    if key:
        plan.dropped["key.format"] = key
    elif key_columns:
        plan.warnings.append(
            f"table {table.name!r}: records are written without a key, where Confluent keys "
            f"them by {', '.join(key_columns)}; set 'key.format' to write the key")
    return _format(table, "", value, target)


def _has_ltz(ddl: str) -> bool:
    """Whether the table has a TIMESTAMP_LTZ column (avro-confluent cannot write one)."""
    try:
        return any(c.data_type.name == "TIMESTAMP_LTZ" for c in columns_from_ddl(ddl))
    except SchemaError:
        return False


def _format(table: CreateTable, prefix: str, name: str, target: KafkaTarget) -> dict[str, str]:
    """Options for one format: ``<prefix>format`` and the registry URL it needs."""
    option = f"{prefix}format"
    oss = _FORMATS.get(name.strip().lower())
    if name.strip().lower() == "proto-registry":
        raise DialectError(f"table {table.name!r}: {option!r} = 'proto-registry' is not "
                           "supported by the local stack yet; use 'avro-registry' or "
                           "'json-registry' for this table")
    if oss is None:
        raise DialectError(f"table {table.name!r}: {option!r} = {name!r} is not a known "
                           f"format; supported: {', '.join(sorted(_FORMATS))}")
    if oss not in _REGISTRY_FORMATS:
        return {option: oss}
    if not target.schema_registry_url:
        raise DialectError(
            f"table {table.name!r}: {option!r} = {name!r} needs a schema registry and the "
            "stack has none; use 'json-registry' for this table or start the stack with a "
            "schema registry")
    return {option: oss, f"{prefix}{oss}.url": target.schema_registry_url}


def _confluent_only(key: str, connector: str) -> bool:
    """Whether an option exists only in Confluent Cloud (or not in ``connector``)."""
    if key == "changelog.mode" or key.startswith(_DROPPED_PREFIXES):
        return True
    if _REGISTRY_SUBOPTION.match(key):
        return True
    # upsert-kafka always reads from the earliest offset and rejects scan.startup.*.
    return connector == "upsert-kafka" and key.startswith("scan.startup.")


def _semantic_warnings(table: CreateTable, values: dict[str, str], connector: str) -> list[str]:
    """Differences from Confluent Cloud that the adapted table still has."""
    warnings = []
    name = table.name
    if values.get("changelog.mode", "").strip().lower() == "retract" and \
            connector == "upsert-kafka":
        warnings.append(f"table {name!r}: retract mapped to upsert-kafka; update-before rows "
                        "are not written, consumers see upserts and deletes by key")
    if connector == "kafka" and table.primary_key:
        warnings.append(f"table {name!r}: the OSS kafka connector rejects a PRIMARY KEY with "
                        "an insert-only format, so the key is dropped from the adapted DDL "
                        "and kept as 'key.fields' (an append table, as in Confluent Cloud); "
                        "drop 'changelog.mode' = 'append' if it should be an upsert table")
    dist = table.distribution
    if connector == "upsert-kafka" and dist and dist.columns and dist.columns != table.primary_key:
        warnings.append(f"table {name!r}: upsert-kafka keys and partitions by the PRIMARY KEY "
                        f"({', '.join(table.primary_key)}), not by {', '.join(dist.columns)}")
    formats = (values.get(key, "") for key in ("key.format", "value.format", "format"))
    if any(value.strip().lower() == "json-registry" for value in formats):
        warnings.append(f"table {name!r}: json-registry mapped to plain json; records carry "
                        "no schema-registry header")
    if "$rowtime" in table.names:
        warnings.append(f"table {name!r}: refers to Confluent's system column $rowtime, which "
                        "OSS Flink lacks; declare `$rowtime` TIMESTAMP_LTZ(3) METADATA FROM "
                        "'timestamp'")
    return warnings


def _option_map(table: CreateTable) -> dict[str, tuple[str, str]]:
    """Options by lower-case key, each as (key as written, value)."""
    options: dict[str, tuple[str, str]] = {}
    for key, value in table.options or ():
        normal = key.strip().lower()
        if normal in options:
            raise DialectError(f"table {table.name!r}: option {key!r} is given twice; "
                               "keep one")
        options[normal] = (key, value)
    return options
