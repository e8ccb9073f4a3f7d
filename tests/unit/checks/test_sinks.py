"""Sink checks over raw records: duplicates by decoded key, key encodings, append sinks."""

from harness.checks.sinks import SinkSnapshot, decode_key, no_duplicates_by_key, same_key_encoding


def upsert(records, table="t"):
    return SinkSnapshot(table, f"ns.{table}", ["id"], True, records)


def test_one_key_under_two_encodings_is_two_live_rows_and_a_duplicate():
    sink = upsert([(b'{"id":"a"}', {"id": "a", "v": 1}), (b"a", {"id": "a", "v": 2}),
                   (b'{"id":"b"}', {"id": "b", "v": 1})])
    result = no_duplicates_by_key(sink)
    assert not result.ok
    assert result.evidence["duplicated_keys"] == 1
    assert result.evidence["examples"] == [["a", 2]]
    assert "a" in result.evidence["keys_under_several_encodings"]


def test_upserts_and_tombstones_of_one_encoding_are_no_duplicate():
    sink = upsert([(b"k1", {"id": "1", "v": 1}), (b"k1", {"id": "1", "v": 2}),
                   (b"k2", {"id": "2", "v": 1}), (b"k2", None), (b"k1", {"id": "1", "v": 2})])
    result = no_duplicates_by_key(sink)
    assert result.ok and result.evidence["rows"] == 1
    assert result.evidence["changelog_repeats"] == 1  # the same value twice in a row


def test_append_sink_duplicates_by_identity_or_whole_row():
    rows = [(None, {"id": "1", "v": 1}), (None, {"id": "1", "v": 1}), (None, {"id": "2"})]
    sink = SinkSnapshot("a", "ns.a", [], False, rows)
    assert not no_duplicates_by_key(sink).ok
    assert not no_duplicates_by_key(sink, identity=["id"]).ok
    assert no_duplicates_by_key(SinkSnapshot("a", "ns.a", [], False, rows[1:])).ok


def test_same_key_encoding_compares_key_bytes_of_common_keys():
    v1 = upsert([(b'{"id":"a"}', {"id": "a"}), (b'{"id":"b"}', {"id": "b"})], "t")
    v2 = upsert([(b'{"id":"a"}', {"id": "a"}), (b"b", {"id": "b"})], "t_v2")
    result = same_key_encoding(v1, v2)
    assert not result.ok and result.evidence["differ"] == 1
    assert result.evidence["examples"][0]["key"] == "b"
    assert same_key_encoding(v1, v1).ok


def test_decode_key_reads_json_or_text():
    assert decode_key(b'{"id": 1}') == {"id": 1}
    assert decode_key(b"abc") == "abc"
    assert decode_key(None) is None
