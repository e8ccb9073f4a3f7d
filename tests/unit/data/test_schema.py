import pytest

from harness.data import Column, DataType, SchemaError, columns_from_ddl, parse_type
from harness.data import primary_key_from_ddl as primary_key

ORDERS = """
CREATE TABLE IF NOT EXISTS `catalog`.`db`.orders (
  `order id` STRING NOT NULL COMMENT 'unique, (never reused)',  -- a comment, with a comma
  /* block, comment ( */ amount DECIMAL(10,2),
  tags ARRAY<STRING>,
  attrs MAP<STRING, ROW<a INT NOT NULL, `b,c` VARCHAR(5)>>,
  placed TIMESTAMP(3),
  seen TIMESTAMP(3) WITH LOCAL TIME ZONE,
  kafka_ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  `partition` INT METADATA VIRTUAL,
  total AS amount * 2,
  small AS CASE WHEN amount < 3 THEN 1 ELSE 0 END,
  day DATE,
  WATERMARK FOR placed AS placed - INTERVAL '5' SECOND,
  CONSTRAINT pk PRIMARY KEY (`order id`) NOT ENFORCED
) WITH ('connector' = 'kafka', 'topic' = 'orders(', 'format' = 'json')
"""


def test_physical_columns_in_order_with_types_as_written():
    assert columns_from_ddl(ORDERS) == [
        Column("order id", "STRING", nullable=False),
        Column("amount", "DECIMAL(10, 2)"),
        Column("tags", "ARRAY<STRING>"),
        Column("attrs", "MAP<STRING, ROW<a INT NOT NULL, `b,c` VARCHAR(5)>>"),
        Column("placed", "TIMESTAMP(3)"),
        Column("seen", "TIMESTAMP(3) WITH LOCAL TIME ZONE"),
        Column("day", "DATE"),
    ]


def test_table_level_primary_key():
    assert primary_key(ORDERS) == ["order id"]


def test_column_level_primary_key_makes_the_column_not_null():
    ddl = "CREATE TABLE t (id BIGINT PRIMARY KEY NOT ENFORCED, v INT)"
    assert primary_key(ddl) == ["id"]
    assert columns_from_ddl(ddl)[0] == Column("id", "BIGINT", nullable=False)


def test_composite_key_and_no_key():
    assert primary_key("a INT, b STRING, PRIMARY KEY (a, `b`) NOT ENFORCED") == ["a", "b"]
    assert primary_key("CREATE TABLE t (a INT) WITH ('connector' = 'datagen')") == []


def test_bare_column_list_and_lower_case_types():
    assert columns_from_ddl("id bigint, name varchar(10) not null") == [
        Column("id", "bigint"), Column("name", "varchar(10)", nullable=False)]


def test_backticked_names_may_hold_backticks_and_keywords():
    columns = columns_from_ddl("CREATE TABLE t (`a``b` INT, `table` STRING, `AS` INT)")
    assert [c.name for c in columns] == ["a`b", "table", "AS"]


def test_spacing_is_normalised():
    ddl = "CREATE TABLE t (m MAP < STRING ,INT >, d DECIMAL( 10 ,2 ))"
    assert [c.type for c in columns_from_ddl(ddl)] == ["MAP<STRING, INT>", "DECIMAL(10, 2)"]


@pytest.mark.parametrize(("ddl", "fix"), [
    ("CREATE TABLE t AS SELECT * FROM s", "pass the columns"),
    ("CREATE TABLE t (a INT,)", "stray comma"),
    ("CREATE TABLE t (a ARRAY<INT)", "close every"),
    ("CREATE TABLE t (a INT", "add the missing"),
    ("CREATE TABLE t (a INT COMMENT 'open)", "close the quote"),
    ("CREATE TABLE t (a)", "has no type"),
    ("CREATE TABLE t (WATERMARK FOR a AS a)", "at least one"),
])
def test_unreadable_ddl_names_the_fix(ddl, fix):
    with pytest.raises(SchemaError, match=fix):
        columns_from_ddl(ddl)


@pytest.mark.parametrize(("text", "expected"), [
    ("STRING", DataType("STRING")),
    ("varchar(10)", DataType("VARCHAR", (10,))),
    ("CHARACTER VARYING(4)", DataType("VARCHAR", (4,))),
    ("INTEGER", DataType("INT")),
    ("NUMERIC(8, 3)", DataType("DECIMAL", (8, 3))),
    ("DOUBLE PRECISION", DataType("DOUBLE")),
    ("TIMESTAMP(3)", DataType("TIMESTAMP", (3,))),
    ("TIMESTAMP(6) WITHOUT TIME ZONE", DataType("TIMESTAMP", (6,))),
    ("TIMESTAMP_LTZ(3)", DataType("TIMESTAMP_LTZ", (3,))),
    ("TIMESTAMP WITH LOCAL TIME ZONE", DataType("TIMESTAMP_LTZ")),
    ("ARRAY<BIGINT NOT NULL>", DataType("ARRAY", (), (Column("element", "BIGINT", False),))),
    ("MAP<STRING, DOUBLE>",
     DataType("MAP", (), (Column("key", "STRING"), Column("value", "DOUBLE")))),
    ("ROW<local INT, `b c` STRING 'a description'>",
     DataType("ROW", (), (Column("local", "INT"), Column("b c", "STRING")))),
    ("ROW(a INT NOT NULL)", DataType("ROW", (), (Column("a", "INT", False),))),
])
def test_parse_type(text, expected):
    assert parse_type(text) == expected


def test_nested_types_parse_recursively():
    attrs = columns_from_ddl(ORDERS)[3].data_type
    row = attrs.children[1].data_type
    assert row.name == "ROW"
    assert row.children == (Column("a", "INT", False), Column("b,c", "VARCHAR(5)"))


@pytest.mark.parametrize("text", ["", "MAP<STRING>", "DECIMAL(a)", "'x'"])
def test_bad_types(text):
    with pytest.raises(SchemaError):
        parse_type(text)


def test_a_default_clause_ends_the_type() -> None:
    # not Flink SQL, but written in projects; an inferred DDL copying the type must not
    # carry it along
    (x, y) = columns_from_ddl("CREATE TABLE t (x DECIMAL(15,2) DEFAULT 0.0, "
                              "y BOOLEAN DEFAULT TRUE)")
    assert (x.type, y.type) == ("DECIMAL(15, 2)", "BOOLEAN")
