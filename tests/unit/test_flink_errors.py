# ruff: noqa: E501 - PARSE_TRACE is a verbatim server-side stack trace
from harness.flink.errors import root_message

PARSE_TRACE = """<Exception on server side:
org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation 1.
\tat org.apache.flink.table.gateway.service.operation.OperationManager$Operation.processThrowable
Caused by: org.apache.flink.table.api.SqlParserException: SQL parse failed. Non-query expression encountered in illegal context
\tat org.apache.flink.table.planner.parse.CalciteParser.parseSqlList(CalciteParser.java:81)
Caused by: org.apache.calcite.sql.parser.SqlParseException: Non-query expression encountered in illegal context
\tat org.apache.flink.sql.parser.impl.FlinkSqlParserImpl.convertException
End of exception on server side>"""


def test_table_api_exception_is_preferred_over_wrappers():
    message = root_message(["Internal server error.", PARSE_TRACE])
    assert message == ("SqlParserException: SQL parse failed. Non-query expression "
                       "encountered in illegal context")


def test_last_cause_when_no_table_api_exception():
    trace = ("java.lang.RuntimeException: outer\n"
             "Caused by: java.net.ConnectException: Connection refused")
    assert root_message([trace]) == "ConnectException: Connection refused"


def test_plain_text_falls_back_to_last_line():
    assert root_message(["Internal server error.", "something odd"]) == "something odd"
    assert root_message([]) == "no error message from Flink"
