import pyarrow as pa

from harness.iceberg import _apply_deletes, query
from harness.readers import TopicSnapshot


def test_upsert_view_keeps_latest_value_and_honours_tombstones():
    snapshot = TopicSnapshot([(b"a", 1), (b"b", 1), (b"a", 2), (b"b", None), (b"c", 3)])
    assert snapshot.upsert_view() == {b"a": 2, b"c": 3}
    assert snapshot.count_by_key() == {b"a": 2, b"b": 2, b"c": 1}


def _data(ids, values, *, file, seq):
    return pa.table({"id": ids, "v": values, "_file": [file] * len(ids),
                     "_pos": list(range(len(ids))), "_seq": [seq] * len(ids)})


def test_equality_delete_removes_only_older_rows_with_the_same_key():
    data = pa.concat_tables([_data([1, 2], ["a", "b"], file="f1", seq=1),
                             _data([1], ["a2"], file="f2", seq=2)])
    deletes = {("id",): [pa.table({"id": [1], "_seq": [2]})]}
    out = _apply_deletes(data, [], deletes, ["id", "v"])
    assert sorted(out.to_pylist(), key=lambda r: r["id"]) == [{"id": 1, "v": "a2"},
                                                              {"id": 2, "v": "b"}]


def test_position_delete_removes_the_row_at_its_position_in_same_or_older_files():
    data = _data([1, 1], ["first", "second"], file="f1", seq=3)
    positions = [pa.table({"file_path": ["f1"], "pos": [0], "_seq": [3]})]
    out = _apply_deletes(data, positions, {}, ["id", "v"])
    assert out.to_pylist() == [{"id": 1, "v": "second"}]


def test_delete_from_an_older_snapshot_does_not_touch_newer_rows():
    data = _data([1], ["new"], file="f2", seq=5)
    deletes = {("id",): [pa.table({"id": [1], "_seq": [4]})]}
    positions = [pa.table({"file_path": ["f2"], "pos": [0], "_seq": [4]})]
    assert _apply_deletes(data, positions, deletes, ["id", "v"]).num_rows == 1


def test_query_runs_duckdb_over_arrow():
    table = pa.table({"id": [1, 1, 2]})
    dupes = query("SELECT id, count(*) AS n FROM t GROUP BY id HAVING n > 1", t=table)
    assert dupes.to_pylist() == [{"id": 1, "n": 2}]
