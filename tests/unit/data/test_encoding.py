"""Source records as Flink reads them: Avro in the Confluent wire format, or JSON."""
import io
import json

import fastavro
import pytest

from harness.data import encoding
from harness.data.encoding import ConfluentAvro, EncodingError, avro_record, encoding_for
from harness.data.schema import columns_from_ddl

COLUMNS = columns_from_ddl("""CREATE TABLE raw_visits (visit_id STRING NOT NULL,
    amount DECIMAL(10, 2), visited_at TIMESTAMP(3), visit_day DATE, tags ARRAY<STRING>,
    spot ROW<lat DOUBLE, lon DOUBLE>, PRIMARY KEY (visit_id) NOT ENFORCED)""")
RECORD = {"visit_id": "V1", "amount": 12.5, "visited_at": "2024-01-02 03:04:05.678",
          "visit_day": "2024-01-02", "tags": ["a"], "spot": {"lat": 1.5, "lon": 2.0}}


class FakeRegistry:
    """Stands in for the registry's POST /subjects/<s>/versions in unit tests."""

    def __init__(self, status: int = 200) -> None:
        self.status, self.posted = status, []

    def post(self, url, *, json, headers, timeout):
        self.posted.append((url, json))
        request = encoding.httpx.Request("POST", url)
        return encoding.httpx.Response(self.status, json={"id": 7}, request=request)


def test_the_schema_is_the_one_flink_derives_from_the_table() -> None:
    schema = avro_record(COLUMNS)
    assert schema["name"] == "record"
    assert schema["namespace"] == "org.apache.flink.avro.generated"
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["visit_id"]["type"] == "string" and "default" not in fields["visit_id"]
    assert fields["amount"]["type"] == ["null", {"type": "bytes", "logicalType": "decimal",
                                                 "precision": 10, "scale": 2}]
    assert fields["visited_at"]["type"][1]["logicalType"] == "timestamp-millis"
    assert fields["spot"]["type"][1]["name"] == "record_spot"


def test_records_are_written_in_the_confluent_wire_format(monkeypatch) -> None:
    registry = FakeRegistry()
    monkeypatch.setattr(encoding.httpx, "post", registry.post)
    encode = ConfluentAvro("http://registry/apis/ccompat/v7", "t.raw_visits-value", COLUMNS)
    raw = encode(RECORD)
    assert raw[0] == 0 and int.from_bytes(raw[1:5], "big") == 7
    url, body = registry.posted[0]
    assert url.endswith("/subjects/t.raw_visits-value/versions")
    assert json.loads(body["schema"]) == encode.schema
    decoded = fastavro.schemaless_reader(io.BytesIO(raw[5:]),
                                         fastavro.parse_schema(encode.schema))
    assert str(decoded["amount"]) == "12.50"
    assert decoded["visited_at"].isoformat() == "2024-01-02T03:04:05.678000+00:00"
    assert decoded["visit_day"].isoformat() == "2024-01-02"
    assert decoded["spot"] == {"lat": 1.5, "lon": 2.0} and decoded["tags"] == ["a"]
    encode(RECORD)
    assert len(registry.posted) == 1, "registered once"


def test_a_registry_refusal_names_the_subject(monkeypatch) -> None:
    monkeypatch.setattr(encoding.httpx, "post", FakeRegistry(status=409).post)
    with pytest.raises(EncodingError, match="refused the schema of s-value"):
        ConfluentAvro("http://registry", "s-value", COLUMNS)(RECORD)


def test_adapted_options_choose_key_and_value_encoders(monkeypatch) -> None:
    monkeypatch.setattr(encoding.httpx, "post", FakeRegistry().post)
    options = {"value.format": "avro-confluent", "key.format": "json",
               "key.fields": "visit_id", "value.fields-include": "EXCEPT_KEY"}
    chosen = encoding_for(options, COLUMNS, topic="t", registry_url="http://r")
    assert chosen.key is not None and chosen.key(RECORD) == b'{"visit_id": "V1"}'
    value = chosen.value
    assert isinstance(value, ConfluentAvro)
    assert "visit_id" not in [c.name for c in value.columns]
    assert chosen.described == "avro-confluent values, json keys"
    plain = encoding_for({"format": "json"}, COLUMNS, topic="t", registry_url="")
    assert plain.key is None and json.loads(plain.value(RECORD)) == RECORD


def test_formats_cutover_cannot_write_are_refused_with_the_fix() -> None:
    with pytest.raises(EncodingError, match=r"'value\.format' = 'json-registry'"):
        encoding_for({"format": "csv"}, COLUMNS, topic="t", registry_url="")
    with pytest.raises(EncodingError, match="the stack has none"):
        encoding_for({"format": "avro-confluent"}, COLUMNS, topic="t", registry_url="")
    ltz = columns_from_ddl("CREATE TABLE x (at TIMESTAMP_LTZ(3))")
    with pytest.raises(EncodingError, match="TIMESTAMP_LTZ"):
        encoding_for({"format": "avro-confluent"}, ltz, topic="t", registry_url="http://r")
