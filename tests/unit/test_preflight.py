"""The preflight's logic on a fake gateway session: what is asked of Flink, in which
order, and how a refusal is located in its file."""

from harness.deploy.preflight import preflight, preflight_check
from harness.flink.errors import StatementError


class FakeSession:
    """Refuses any statement containing one of ``refuse``, with Flink's kind of message."""

    def __init__(self, refuse: dict[str, str]) -> None:
        self.refuse, self.asked = refuse, []

    def execute(self, sql: str):
        self.asked.append(sql)
        for needle, message in self.refuse.items():
            if needle in sql:
                raise StatementError("statement failed", message)
        return None


def test_every_table_is_registered_before_any_statement_is_explained(tmp_path):
    session = FakeSession({})
    v1 = [("src", "CREATE TABLE src (a INT)", "", None, "", None, ""),
          ("fct", "CREATE TABLE fct (a INT)", "INSERT INTO fct SELECT a FROM src", None, "",
           None, "")]
    v2 = [("fct_v2", "CREATE TABLE fct_v2 (a INT)", "INSERT INTO fct_v2 SELECT a FROM src",
           None, "", None, "")]
    assert preflight(session, v1, v2) == []
    assert session.asked == ["CREATE TABLE src (a INT)", "CREATE TABLE fct (a INT)",
                             "EXPLAIN INSERT INTO fct SELECT a FROM src",
                             "CREATE TABLE fct_v2 (a INT)",
                             "EXPLAIN INSERT INTO fct_v2 SELECT a FROM src"]
    check = preflight_check([], statements=3)
    assert check.ok and "accepted all 3" in check.summary


def test_a_refusal_names_the_line_in_the_file_the_statement_was_written_in(tmp_path):
    written = "INSERT INTO fct\nSELECT a,\n       NOPE(a)\nFROM src;"
    path = tmp_path / "dml.fct.sql"
    path.write_text(f"-- the fact\n-- owned by the data team\n{written}\n")
    renamed = written.replace("INSERT INTO fct", "INSERT INTO fct_v2")
    session = FakeSession({"NOPE": "SQL validation failed. From line 3, column 8 to line 3, "
                                   "column 14: No match found for function signature NOPE"})
    problems = preflight(session, [], [("fct_v2", "", renamed, path, written, None, "")])
    (problem,) = problems
    assert problem.location == f"{path}:5", "line 3 of a statement that starts on line 3"
    assert (problem.statement, problem.version) == ("fct_v2", "v2")
    check = preflight_check(problems, statements=4)
    assert not check.ok and "1 of 4" in check.summary and f"{path}:5" in check.summary
    assert check.evidence["problems"][0]["message"].startswith("SQL validation failed")


def test_a_refused_ddl_is_reported_and_its_statement_not_explained_again():
    session = FakeSession({"BAD TYPE": "Could not parse type BAD TYPE"})
    v1 = [("fct", "CREATE TABLE fct (a BAD TYPE)", "INSERT INTO fct SELECT 1", None, "",
           None, "")]
    (problem,) = preflight(session, v1, [])
    assert problem.location == "<DDL cutover inferred>:1"
    assert not any(sql.startswith("EXPLAIN") for sql in session.asked)


def test_a_refused_ddl_is_located_in_the_ddl_file_not_the_dml_file(tmp_path):
    # saleops writes `DEFAULT 0.0` in its DDL: the line Flink names is the DDL's
    written_ddl = "CREATE TABLE fct (\n  a INT,\n  b DECIMAL(15,2) DEFAULT 0.0\n)"
    ddl_path, dml_path = tmp_path / "ddl.fct.sql", tmp_path / "dml.fct.sql"
    ddl_path.write_text(f"-- the fact\n{written_ddl};\n")
    dml_path.write_text("INSERT INTO fct SELECT 1, 2;")
    session = FakeSession({"DEFAULT": 'SQL parse failed. Encountered "DEFAULT" at line 3, '
                                      "column 20."})
    adapted = written_ddl + " WITH ('connector' = 'kafka')"
    v1 = [("fct", adapted, "INSERT INTO fct SELECT 1, 2", dml_path, "INSERT INTO fct SELECT 1, 2",
           ddl_path, written_ddl)]
    (problem,) = preflight(session, v1, [])
    assert problem.location == f"{ddl_path}:4"
