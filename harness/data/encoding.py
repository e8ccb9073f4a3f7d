"""How a source's synthetic records become Kafka message bytes: JSON, or Avro in the
Confluent wire format, as the source's adapted DDL declares.

Confluent Cloud defaults both formats to ``avro-registry`` (``avro-confluent`` on
open-source Flink), so a project's raw topics are often Avro. Flink reads such a topic
with each record's writer schema (fetched from the registry by the id the record
carries) resolved against the reader schema it derives from the table, field by field
by name. The writer schema is derived here from the same columns, in the shape Flink
derives: a record named ``org.apache.flink.avro.generated.record``, nullable columns as
a union with ``null`` first. Generator values (JSON-ready) are converted to it:
timestamps to epoch milliseconds, dates to days, times to milliseconds of the day,
decimals to ``Decimal``, bytes from base64.

The key is what the table's ``key.fields`` name, in its ``key.format``; a table with no
key format gets the text of its key field (the injector's default).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import fastavro
import httpx

from harness.data.schema import Column, DataType
from harness.errors import CutoverError

Record = Mapping[str, Any]
Encoder = Callable[[Record], bytes]
NAMESPACE = "org.apache.flink.avro.generated"
_PRIMITIVE = {"BOOLEAN": "boolean", "TINYINT": "int", "SMALLINT": "int", "INT": "int",
              "BIGINT": "long", "FLOAT": "float", "DOUBLE": "double", "REAL": "float",
              "STRING": "string", "VARCHAR": "string", "CHAR": "string",
              "BYTES": "bytes", "BINARY": "bytes", "VARBINARY": "bytes"}
_EPOCH = dt.datetime(1970, 1, 1)


class EncodingError(CutoverError):
    """A source's format or column types cannot be written, or the registry refused."""


def avro_type(data_type: DataType, name: str, *, nullable: bool = True) -> Any:
    """The Avro type Flink derives for a column (``name`` names nested records)."""
    kind = data_type.name
    if kind in _PRIMITIVE:
        avro: Any = _PRIMITIVE[kind]
    elif kind == "DECIMAL":
        precision, scale = _decimal(data_type)
        avro = {"type": "bytes", "logicalType": "decimal", "precision": precision,
                "scale": scale}
    elif kind == "DATE":
        avro = {"type": "int", "logicalType": "date"}
    elif kind == "TIME":
        avro = {"type": "int", "logicalType": "time-millis"}
    elif kind == "TIMESTAMP":
        precision = data_type.params[0] if data_type.params else 6
        avro = {"type": "long", "logicalType": "timestamp-millis" if precision <= 3
                else "timestamp-micros"}
    elif kind == "ARRAY":
        element = data_type.children[0]
        avro = {"type": "array", "items": avro_type(element.data_type, name,
                                                    nullable=element.nullable)}
    elif kind == "MAP":
        value = data_type.children[1]
        avro = {"type": "map", "values": avro_type(value.data_type, name,
                                                   nullable=value.nullable)}
    elif kind == "ROW":
        avro = avro_record(data_type.children, name=f"record_{name}")
    else:
        raise EncodingError(f"column {name!r} is {kind}, which cutover cannot write as Avro "
                            "(TIMESTAMP_LTZ and MULTISET are not supported); declare the "
                            "source with 'value.format' = 'json-registry' for the test")
    return ["null", avro] if nullable else avro


def _decimal(data_type: DataType) -> tuple[int, int]:
    """Precision and scale of a DECIMAL (Flink's defaults: 10 and 0)."""
    params = data_type.params
    return (params[0] if params else 10), (params[1] if len(params) > 1 else 0)


def avro_record(columns: Sequence[Column], *, name: str = "record",
                namespace: str | None = NAMESPACE) -> dict[str, Any]:
    """A record schema of ``columns``; nullable fields default to null."""
    fields = []
    for column in columns:
        field: dict[str, Any] = {"name": column.name,
                                 "type": avro_type(column.data_type, column.name,
                                                   nullable=column.nullable)}
        if column.nullable:
            field["default"] = None
        fields.append(field)
    schema: dict[str, Any] = {"type": "record", "name": name, "fields": fields}
    if namespace:
        schema["namespace"] = namespace
    return schema


def to_avro(value: Any, data_type: DataType) -> Any:
    """A generator value (JSON-ready) as the Avro type of :func:`avro_type` takes it."""
    if value is None:
        return None
    kind = data_type.name
    if kind == "DECIMAL":
        return decimal.Decimal(str(value)).quantize(
            decimal.Decimal(1).scaleb(-_decimal(data_type)[1]))
    if kind == "DATE":
        return (dt.date.fromisoformat(str(value)) - dt.date(1970, 1, 1)).days
    if kind == "TIME":
        t = dt.time.fromisoformat(str(value))
        return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000
    if kind == "TIMESTAMP":
        if isinstance(value, int):
            return value
        delta = dt.datetime.fromisoformat(str(value).replace(" ", "T")) - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        precision = data_type.params[0] if data_type.params else 6
        return micros // 1000 if precision <= 3 else micros
    if kind in ("BYTES", "BINARY", "VARBINARY"):
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if kind == "ARRAY":
        return [to_avro(v, data_type.children[0].data_type) for v in value]
    if kind == "MAP":
        return {str(k): to_avro(v, data_type.children[1].data_type) for k, v in value.items()}
    if kind == "ROW":
        return {c.name: to_avro(value.get(c.name), c.data_type) for c in data_type.children}
    return value


class ConfluentAvro:
    """Encodes records of ``columns`` as Avro in the Confluent wire format: a zero byte,
    the 4-byte id of the schema registered under ``subject``, the Avro binary.

    The schema is registered at the first record, not before (a plan that never sends to
    the source never touches the registry).
    """

    def __init__(self, registry_url: str, subject: str, columns: Sequence[Column], *,
                 timeout_s: float = 10.0) -> None:
        if not registry_url:
            raise EncodingError(f"{subject}: the table is Avro through a schema registry, and "
                                "the stack has none; start it with the registry")
        self.registry_url, self.subject = registry_url.rstrip("/"), subject
        self.columns = list(columns)
        self.schema = avro_record(self.columns)
        self._parsed = fastavro.parse_schema(self.schema)
        self._types = [(c.name, c.data_type) for c in self.columns]
        self._timeout_s = timeout_s
        self._header: bytes | None = None

    def register(self) -> int:
        """Register the schema (idempotent in the registry) and return its id."""
        url = f"{self.registry_url}/subjects/{self.subject}/versions"
        try:
            response = httpx.post(url, json={"schema": json.dumps(self.schema)},
                                  headers={"Content-Type":
                                           "application/vnd.schemaregistry.v1+json"},
                                  timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            raise EncodingError(f"registering {self.subject} at {url} failed: {exc}") from exc
        if response.status_code != 200:
            raise EncodingError(f"the registry refused the schema of {self.subject} (HTTP "
                                f"{response.status_code}: {response.text[:300]}); a subject "
                                "with an incompatible schema is left from another run?")
        schema_id = int(response.json()["id"])
        self._header = b"\x00" + schema_id.to_bytes(4, "big")
        return schema_id

    def __call__(self, record: Record) -> bytes:
        if self._header is None:
            self.register()
        assert self._header is not None
        out = io.BytesIO()
        out.write(self._header)
        fastavro.schemaless_writer(out, self._parsed, {
            name: to_avro(record.get(name), data_type) for name, data_type in self._types})
        return out.getvalue()


def json_value(record: Record) -> bytes:
    return json.dumps(record, default=str).encode()


@dataclass(frozen=True)
class RecordEncoding:
    """The key and value encoders of one source topic (``key`` None: the key's text)."""

    value: Encoder = json_value
    key: Encoder | None = None
    described: str = "JSON values"


def encoding_for(options: Mapping[str, str], columns: Sequence[Column], *, topic: str,
                 registry_url: str) -> RecordEncoding:
    """The encoding a source with these adapted WITH ``options`` is read in.

    Raises:
        EncodingError: A format cutover does not write (CSV, raw, a Debezium envelope),
            or Avro columns of a type it cannot write.
    """
    value_format = options.get("value.format") or options.get("format") or "json"
    key_fields = [f for f in options.get("key.fields", "").split(";") if f]
    except_key = options.get("value.fields-include", "ALL").upper() == "EXCEPT_KEY"
    by_name = {c.name: c for c in columns}
    value_columns = [c for c in columns if not (except_key and c.name in key_fields)]
    value = _encoder(value_format, value_columns, subject=f"{topic}-value",
                     registry_url=registry_url, part="value")
    key = None
    if options.get("key.format") and key_fields:
        missing = [f for f in key_fields if f not in by_name]
        if missing:
            raise EncodingError(f"{topic}: key.fields {missing} are not columns of the table")
        key = _encoder(options["key.format"], [by_name[f] for f in key_fields],
                       subject=f"{topic}-key", registry_url=registry_url, part="key")
    described = f"{value_format} values" + (f", {options['key.format']} keys" if key else "")
    return RecordEncoding(value=value, key=key, described=described)


def _encoder(fmt: str, columns: Sequence[Column], *, subject: str, registry_url: str,
             part: str) -> Encoder:
    """An encoder of ``columns``; a JSON value is the whole record (extra fields are
    ignored by Flink's json format), a JSON key the key fields' object."""
    if fmt == "json" and part == "value":
        return json_value
    if fmt == "json":
        names = [c.name for c in columns]
        return lambda record: json.dumps({n: record.get(n) for n in names}, default=str).encode()
    if fmt == "avro-confluent":
        return ConfluentAvro(registry_url, subject, columns)
    raise EncodingError(f"{subject}: cutover writes synthetic {part}s as JSON or Avro through "
                        f"the registry, not {fmt!r}; declare the source with "
                        "'value.format' = 'json-registry' or 'avro-registry' for the test")
