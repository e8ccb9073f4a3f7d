"""The table diff on Arrow tables (DuckDB does the work: no fake in sight)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from harness.parity import DiffSpec, ParityError, diff_tables


def accounts(ids, balances, owners=None, id_type=None):
    owners = owners or [f"o{i}" for i in ids]
    return pa.table({"id": pa.array(ids, id_type or pa.int64()), "owner": owners,
                     "balance": pa.array(balances, pa.float64())})


def test_equal_tables_agree_across_integer_widths_and_float_noise():
    left = accounts([1, 2, 3], [1.0, 2.0, 0.1 + 0.2], id_type=pa.int32())
    right = accounts([3, 1, 2], [0.3, 1.0, 2.0])
    diff = diff_tables(left, right, DiffSpec(("id",)), left_name="pg", right_name="ice")
    assert diff.ok, diff.summary()
    assert diff.summary() == "pg and ice agree: 3 rows, 3 key ranges"


def test_missing_extra_changed_and_duplicate_keys_are_named_with_their_values():
    left = accounts([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0])
    right = accounts([1, 2, 3, 5, 5], [1.0, 2.5, 3.0, 5.0, 5.0])
    diff = diff_tables(left, right, DiffSpec(("id",), segments=2))
    kinds = {d.key["id"]: d.kind for d in diff.differences}
    assert kinds == {2: "changed", 4: "missing", 5: "duplicate"}
    changed = next(d for d in diff.differences if d.kind == "changed")
    assert changed.columns == ("balance",) and changed.left["balance"] == 2.0 \
        and changed.right["balance"] == 2.5
    assert "1 missing, 1 changed, 1 duplicate" in diff.summary()
    evidence = diff.to_evidence()
    assert evidence["differing_keys"] == 3 and evidence["differing_segments"]
    assert {s["segment"] for s in evidence["differing_segments"]} <= {0, 1, 2}


def test_only_differing_key_ranges_are_compared_row_by_row():
    ids = list(range(1000))
    left = accounts(ids, [float(i) for i in ids])
    right = accounts(ids[:500] + ids[501:], [float(i) for i in ids[:500] + ids[501:]])
    diff = diff_tables(left, right, DiffSpec(("id",), segments=10))
    assert [d.key for d in diff.differences] == [{"id": 500}]
    (segment,) = diff.differing_segments
    assert segment["left_rows"] == segment["right_rows"] + 1
    assert segment["from"] <= 500 < (segment["before"] or 10**9)


def test_null_keys_and_composite_keys_are_compared():
    left = pa.table({"a": ["x", "x", None], "b": [1, 2, 3], "v": [1.0, 2.0, 3.0]})
    right = pa.table({"a": ["x", "x", None], "b": [1, 2, 3], "v": [1.0, 2.0, 9.0]})
    diff = diff_tables(left, right, DiffSpec(("a", "b")))
    assert [(d.key, d.kind) for d in diff.differences] == [({"a": None, "b": 3}, "changed")]


def test_empty_sides():
    empty = accounts([], [])
    assert diff_tables(empty, empty, DiffSpec(("id",))).ok
    diff = diff_tables(empty, accounts([7], [1.0]), DiffSpec(("id",)))
    assert [(d.key, d.kind) for d in diff.differences] == [({"id": 7}, "extra")]


def test_chosen_columns_only_and_a_column_outside_them_is_ignored():
    left = accounts([1], [1.0], owners=["a"])
    right = accounts([1], [1.0], owners=["b"])
    assert not diff_tables(left, right, DiffSpec(("id",))).ok
    assert diff_tables(left, right, DiffSpec(("id",), ("balance",))).ok


def test_errors_name_the_column():
    left = accounts([1], [1.0])
    with pytest.raises(ParityError, match="right has no column 'balance'"):
        diff_tables(left, left.drop(["balance"]), DiffSpec(("id",)))
    clash = left.set_column(2, "balance", pa.array(["1.0"]))
    with pytest.raises(ParityError, match="'balance' is double on one side and string"):
        diff_tables(left, clash, DiffSpec(("id",)))
    with pytest.raises(ParityError, match="at least one key"):
        DiffSpec(())


def test_values_either_side_of_a_rounding_boundary_agree():
    # Rounded to 6 decimals they are 0.026437 and 0.026438: only the checksum of their
    # range differs, and the row-by-row comparison (on the values) finds them equal.
    left = accounts([1, 2], [0.0264374999, 5.0])
    right = accounts([1, 2], [0.0264375001, 5.0])
    diff = diff_tables(left, right, DiffSpec(("id",)))
    assert diff.ok, diff.summary()
    assert not diff_tables(left, accounts([1, 2], [0.02644, 5.0]), DiffSpec(("id",))).ok


def test_a_null_against_a_number_is_a_difference():
    left = pa.table({"k": [1, 2], "v": pa.array([1.0, None], pa.float64())})
    right = pa.table({"k": [1, 2], "v": pa.array([1.0, 2.0], pa.float64())})
    diff = diff_tables(left, right, DiffSpec(("k",)))
    assert [(d.key, d.columns) for d in diff.differences] == [({"k": 2}, ("v",))]


def test_times_with_a_zone_compare_as_instants():
    import datetime as dt

    utc = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    left = pa.table({"k": [1, 2], "at": pa.array([utc, utc], pa.timestamp("us", tz="UTC"))})
    right = pa.table({"k": [1, 2], "at": pa.array(
        [utc, utc + dt.timedelta(seconds=1)], pa.timestamp("us", tz="Europe/Paris"))})
    diff = diff_tables(left, right, DiffSpec(("k",)))
    assert [d.key for d in diff.differences] == [{"k": 2}]


def test_identifiers_with_quotes_are_quoted():
    table = pa.table({'we"ird': [1, 2], "v": [1.0, 2.0]})
    assert diff_tables(table, table, DiffSpec(('we"ird',))).ok
