"""parity of v1 and v2 rows, and the keys whose last write depends on read order."""
from harness.checks.rows import parity

COLUMNS = ["id", "balance"]


def rows(*pairs):
    return [{"id": k, "balance": b} for k, b in pairs]


def test_equal_rows_hold() -> None:
    assert parity(rows(("a", 1)), rows(("a", 1)), key="id", columns=COLUMNS, name="t").ok


def test_a_different_value_fails_with_the_key_and_both_rows() -> None:
    result = parity(rows(("a", 290)), rows(("a", 295)), key="id", columns=COLUMNS, name="t")
    assert not result.ok
    assert result.evidence["differ"] == [{"key": "a", "v1": ("a", 290), "v2": ("a", 295)}]


def test_two_orders_upserting_one_customer_in_another_order_are_reported_not_failed() -> None:
    # v1 wrote 290 then 295, v2 295 then 290: both final rows are rows both wrote
    written = (rows(("a", 290), ("a", 295)), rows(("a", 295), ("a", 290)))
    result = parity(rows(("a", 295)), rows(("a", 290)), key="id", columns=COLUMNS,
                    name="t", written=written)
    assert result.ok, result.evidence
    assert "1 more end on different rows that both versions wrote" in result.summary
    (example,) = result.evidence["order_dependent"]
    assert example["v1_wrote"] == [("a", 290), ("a", 295)]


def test_a_v2_computing_another_value_is_not_excused_by_its_history() -> None:
    written = (rows(("a", 290), ("a", 295)), rows(("a", 300), ("a", 296)))
    result = parity(rows(("a", 295)), rows(("a", 296)), key="id", columns=COLUMNS,
                    name="t", written=written)
    assert not result.ok and "order_dependent" not in result.evidence


def test_a_v2_that_missed_v1s_last_update_still_fails() -> None:
    # v2 kept the first value and never wrote the second: not an order, a lost update
    written = (rows(("a", 290), ("a", 295)), rows(("a", 290)))
    result = parity(rows(("a", 295)), rows(("a", 290)), key="id", columns=COLUMNS,
                    name="t", written=written)
    assert not result.ok
