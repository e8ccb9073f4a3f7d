import pytest

from harness.pipeline.lexer import split_statements, statement_kind
from harness.pipeline.sqlrefs import (
    created_table,
    read_tables,
    rename_tables,
    statement_refs,
    written_table,
)


@pytest.mark.parametrize(("sql", "written", "reads"), [
    ("INSERT INTO `int_x` SELECT a.id FROM `cat`.`db`.`src_a` AS a JOIN src_b b ON a.id = b.id",
     "int_x", ("src_a", "src_b")),
    ("INSERT INTO fct_y WITH c AS (SELECT * FROM int_x), d AS (SELECT k FROM c) "
     "SELECT * FROM d JOIN dim_z z ON d.k = z.k", "fct_y", ("dim_z", "int_x")),
    ("INSERT INTO agg SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE orders, "
     "DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
     "agg", ("orders",)),
    ("INSERT INTO enriched SELECT o.id, r.rate FROM orders AS o JOIN rates "
     "FOR SYSTEM_TIME AS OF o.proc_time AS r ON o.cur = r.cur", "enriched", ("orders", "rates")),
    ("INSERT INTO words SELECT id, w FROM src_t, LATERAL TABLE(explode_words(txt)) AS T(w)",
     "words", ("src_t",)),
    ("INSERT INTO t3 SELECT * FROM src_k /*+ OPTIONS('scan.startup.mode'='earliest-offset') */",
     "t3", ("src_k",)),
    ("INSERT INTO src_c SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id "
     "ORDER BY ts DESC) AS rn FROM raw_c) WHERE rn = 1", "src_c", ("raw_c",)),
    ("INSERT INTO t4 SELECT EXTRACT(DAY FROM ts) FROM raw_d -- FROM fake\n"
     "WHERE note <> 'JOIN other' AND x IN (SELECT id FROM raw_e)", "t4", ("raw_d", "raw_e")),
    ("INSERT INTO loop_t SELECT * FROM loop_t JOIN src_f ON TRUE", "loop_t", ("src_f",)),
])
def test_references_of_flink_statements(sql, written, reads):
    refs = statement_refs(sql)
    assert (refs.written, refs.reads, refs.parse_error) == (written, reads, "")


def test_statement_set_is_unwrapped_into_its_inserts():
    sql = ("EXECUTE STATEMENT SET\nBEGIN\n  INSERT INTO a SELECT ';' FROM b;\n"
           "  INSERT INTO c SELECT * FROM d;\nEND;\n")
    statements = split_statements(sql)
    assert [(s.text, s.line) for s in statements] == [
        ("INSERT INTO a SELECT ';' FROM b", 3), ("INSERT INTO c SELECT * FROM d", 4)]
    assert written_table(sql) == "a"
    assert read_tables(sql) == ("b", "d")


def test_sql_client_statement_set_and_comments_are_split_correctly():
    sql = ("-- a; comment\nSET 'x' = 'y;z';\nBEGIN STATEMENT SET;\n"
           "INSERT INTO e /* ; */ SELECT * FROM f;\nEND;\n/* only a comment */")
    assert [s.text for s in split_statements(sql)] == [
        "-- a; comment\nSET 'x' = 'y;z'", "INSERT INTO e /* ; */ SELECT * FROM f"]


@pytest.mark.parametrize(("sql", "kind"), [
    ("CREATE TABLE t (id INT) WITH ('connector' = 'kafka')", "ddl"),
    ("create temporary table t (id INT)", "ddl"),
    ("CREATE TABLE t WITH ('a' = 'b') AS SELECT * FROM s", "ctas"),
    ("INSERT INTO t SELECT 1", "dml"),
    ("SET 'table.exec.state.ttl' = '1 h'", "other"),
])
def test_statement_kind(sql, kind):
    assert statement_kind(sql) == kind


def test_created_table_takes_the_last_part_of_a_dotted_name():
    sql = ("CREATE TABLE IF NOT EXISTS `cat`.`db`.`int_x` (id STRING, ts TIMESTAMP(3),\n"
           "  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND, PRIMARY KEY (id) NOT ENFORCED\n"
           ") DISTRIBUTED BY HASH(id) INTO 1 BUCKETS WITH ('connector' = 'kafka')")
    assert created_table(sql) == "int_x"


def test_unparsable_statement_falls_back_to_patterns():
    sql = "INSERT INTO t5\nSELECT a\nFROM src_q JOIN `src_r` r ON q.id = r.id\nWHERE a = = 3"
    refs = statement_refs(sql)
    assert (refs.written, refs.reads) == ("t5", ("src_q", "src_r"))
    assert refs.parse_error.startswith("Required keyword")
    assert refs.error_line == 4


def test_rename_leaves_strings_comments_and_prefixes_alone():
    sql = ("INSERT INTO `int_x` /* int_x */\n"
           "SELECT 'int_x' AS label, int_x.id, x.int_xy, cat.db.int_x.val -- int_x\n"
           "FROM int_x /*+ OPTIONS('topic'='int_x') */\n"
           "JOIN int_xy x ON x.id = int_x.id WHERE note = \"int_x\"")
    assert rename_tables(sql, {"int_x": "int_x_v2"}) == (
        "INSERT INTO `int_x_v2` /* int_x */\n"
        "SELECT 'int_x' AS label, int_x_v2.id, x.int_xy, cat.db.int_x_v2.val -- int_x\n"
        "FROM int_x_v2 /*+ OPTIONS('topic'='int_x') */\n"
        "JOIN int_xy x ON x.id = int_x_v2.id WHERE note = \"int_x\"")


def test_rename_of_a_name_that_prefixes_another():
    sql = "INSERT INTO fct SELECT * FROM src_a a JOIN src_ab ab ON a.id = ab.id"
    assert rename_tables(sql, {"src_a": "src_a_v2"}) == (
        "INSERT INTO fct SELECT * FROM src_a_v2 a JOIN src_ab ab ON a.id = ab.id")


def test_rename_keeps_every_other_byte_even_when_sqlglot_cannot_tokenize():
    sql = "-- é 日本\nINSERT INTO t\tSELECT 'unterminated FROM t"
    assert rename_tables(sql, {"t": "t_v2"}) == (
        "-- é 日本\nINSERT INTO t_v2\tSELECT 'unterminated FROM t")
