import json
import re

import pytest

from harness.data import Column, GeneratorError, RecordGenerator, columns_from_ddl

QUOTES = columns_from_ddl("""
CREATE TABLE quotes (id STRING, symbol STRING, trader_name STRING, email STRING,
                     country STRING, price DOUBLE, amount DECIMAL(10, 2), score DOUBLE,
                     qty INT, flag BOOLEAN, placed TIMESTAMP(3), seen TIMESTAMP_LTZ(3),
                     day DATE, at TIME, tags ARRAY<STRING>, attrs MAP<INT, DOUBLE>,
                     venue ROW<city STRING, fee DECIMAL(4, 2)>, raw BYTES, code VARCHAR(3),
                     whole DECIMAL(6), tiny DECIMAL(5, 2))""")


def generator(seed=7, **kwargs):
    kwargs.setdefault("key", "id")
    return RecordGenerator(kwargs.pop("columns", QUOTES), seed=seed, **kwargs)


def test_same_seed_same_records():
    assert generator(seed=7).records(50) == generator(seed=7).records(50)


def test_different_seed_different_records():
    assert generator(seed=7).records(50) != generator(seed=8).records(50)


def test_records_do_not_depend_on_interleaved_updates():
    plain, busy = generator(), generator()
    expected = plain.records(20)
    got = []
    for _ in range(20):
        got.append(busy.record())
        busy.update(got[-1])
    assert got == expected


def test_unique_ids_over_ten_thousand_records():
    gen = RecordGenerator(columns_from_ddl("id STRING, name STRING, price DOUBLE"),
                          key="id", seed=1, id_prefix="blue-")
    ids = [r["id"] for r in gen.records(10_000)]
    assert len(set(ids)) == 10_000
    assert ids[0] == "blue-1" and ids[-1] == "blue-10000"


def test_integer_keys_count_from_one():
    gen = RecordGenerator([Column("id", "BIGINT"), Column("v", "INT")], key="id", seed=1)
    assert gen.next_id == 1
    assert [r["id"] for r in gen.records(3)] == [1, 2, 3]
    assert gen.next_id == 4


def test_string_key_next_id():
    gen = generator(id_prefix="g-")
    assert gen.next_id == "g-1"
    assert gen.record()["id"] == "g-1"
    assert gen.next_id == "g-2"


def test_value_shapes():
    for r in generator().records(200):
        assert re.fullmatch(r"[A-Z]{3,5}", r["symbol"])
        assert "@" in r["email"] and " " in r["trader_name"] and r["country"]
        assert r["price"] > 0 and round(r["price"], 2) == r["price"]
        assert 0 < r["amount"] < 10**8 and round(r["amount"], 2) == r["amount"]
        assert -1 <= r["score"] <= 1
        assert isinstance(r["qty"], int) and isinstance(r["flag"], bool)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", r["placed"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z", r["seen"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", r["day"])
        assert re.fullmatch(r"\d\d:\d\d:\d\d", r["at"])
        assert r["tags"] and all(isinstance(t, str) for t in r["tags"])
        assert all(isinstance(k, str) for k in r["attrs"])
        assert set(r["venue"]) == {"city", "fee"} and 0 <= r["venue"]["fee"] < 100
        assert len(r["code"]) <= 3 and isinstance(r["whole"], int)
        assert r["tiny"] <= 999.99
        assert None not in r.values()


def test_records_equal_their_json_round_trip():
    records = generator().records(50)
    assert json.loads(json.dumps(records)) == records


def test_timestamp_precision_sets_fraction_digits():
    gen = RecordGenerator(columns_from_ddl("id INT, a TIMESTAMP(0), b TIMESTAMP(1), c TIMESTAMP"),
                          key="id", seed=3)
    record = gen.record()
    assert re.fullmatch(r"[\d-]+ [\d:]+", record["a"])
    assert re.fullmatch(r"[\d-]+ [\d:]+\.\d", record["b"])
    assert re.fullmatch(r"[\d-]+ [\d:]+\.\d{3}", record["c"])


def test_overrides_reference_parent_ids():
    orders = columns_from_ddl("order_id BIGINT, customer_id BIGINT, price DOUBLE")
    seen = []

    def customer(rng, seq):
        seen.append(seq)
        return rng.randint(1, 50)

    gen = RecordGenerator(orders, key="order_id", seed=5, overrides={"customer_id": customer})
    records = gen.records(100)
    assert all(1 <= r["customer_id"] <= 50 for r in records)
    assert seen == list(range(1, 101))
    again = RecordGenerator(orders, key="order_id", seed=5, overrides={"customer_id": customer})
    assert again.records(100) == records


def test_override_makes_an_unsupported_type_usable():
    columns = [Column("id", "INT"), Column("span", "INTERVAL DAY")]
    with pytest.raises(GeneratorError, match=r"overrides=.*'span'"):
        RecordGenerator(columns, key="id", seed=1)
    gen = RecordGenerator(columns, key="id", seed=1, overrides={"span": lambda rng, seq: "P1D"})
    assert gen.record() == {"id": 1, "span": "P1D"}


def test_update_keeps_the_key_and_changes_values():
    gen = generator()
    original = gen.record()
    first, second = gen.update(original), gen.update(original)
    assert first["id"] == second["id"] == original["id"]
    assert first != original and second != first
    assert set(first) == set(original)


def test_updates_are_deterministic():
    a, b = generator(), generator()
    ra, rb = a.records(5), b.records(5)
    assert [a.update(r) for r in ra] == [b.update(r) for r in rb]


def test_update_of_a_foreign_record_names_the_fix():
    with pytest.raises(GeneratorError, match="not made by this generator"):
        generator(id_prefix="blue-").update({"id": "green-1"})
    with pytest.raises(GeneratorError, match="no key column"):
        generator().update({"symbol": "X"})


def test_update_that_cannot_change_anything():
    gen = RecordGenerator([Column("id", "INT"), Column("c", "INT")], key="id", seed=1,
                          overrides={"c": lambda rng, seq: 0})
    with pytest.raises(GeneratorError, match="changed no value"):
        gen.update(gen.record())


@pytest.mark.parametrize(("columns", "kwargs", "fix"), [
    ([Column("id", "INT")], {"key": "nope"}, "columns are id"),
    ([Column("id", "DOUBLE")], {"key": "id"}, "STRING or integer"),
    ([Column("id", "INT")], {"key": "id", "id_prefix": "x-"}, "drop id_prefix"),
    ([Column("id", "INT")], {"key": "id", "overrides": {"id": lambda r, s: 1}}, "id_prefix"),
    ([Column("id", "INT")], {"key": "id", "overrides": {"x": lambda r, s: 1}}, "no column"),
])
def test_bad_configuration_names_the_fix(columns, kwargs, fix):
    with pytest.raises(GeneratorError, match=fix):
        RecordGenerator(columns, seed=1, **kwargs)


def test_name_hints_for_references_and_epoch_times():
    columns = columns_from_ddl("article_id STRING, ticker_id STRING, symbol STRING, "
                               "published_at BIGINT, score_count BIGINT")
    for r in RecordGenerator(columns, key="article_id", seed=2).records(100):
        assert r["ticker_id"].isdigit() and 1 <= int(r["ticker_id"]) <= 100_000
        assert re.fullmatch(r"[A-Z]{3,5}", r["symbol"])
        assert 1_704_067_200_000 <= r["published_at"] < 1_735_689_600_000  # within 2024
        assert 1 <= r["score_count"] <= 100
