"""Errors from Flink, carrying Flink's own message."""

from __future__ import annotations

import re

from harness.errors import CutoverError

# Exceptions whose message tells a person what is wrong with their SQL.
_USEFUL = re.compile(r"(?:Caused by: )?(org\.apache\.flink\.table\.api\.\w+|"
                     r"org\.apache\.calcite\.\S+Exception|[\w.$]+(?:Exception|Error)): (.+)")


class FlinkError(CutoverError):
    """Flink refused or failed a request; ``flink_message`` is Flink's own explanation."""

    def __init__(self, what: str, flink_message: str, *, detail: str = "") -> None:
        self.flink_message = flink_message
        self.detail = detail
        super().__init__(f"{what}: {flink_message}")


class StatementError(FlinkError):
    """A SQL statement was rejected (parse, validation, planning) or its job failed."""


def root_message(server_errors: list[str]) -> str:
    """The most useful line of a Flink server-side stack trace.

    Prefers Flink's table API exceptions (SqlParserException, ValidationException), which
    carry the line and column, over wrapper exceptions that only say "failed to execute";
    of those, the deepest cause ("Unable to create a sink" is caused by the reason why).
    """
    text = "\n".join(server_errors)
    matches = [(m.group(1), m.group(2).strip()) for m in map(_USEFUL.search, text.splitlines())
               if m]
    for name, message in reversed(matches):
        if name.startswith("org.apache.flink.table.api.") and "SqlExecutionException" not in name:
            return f"{name.rsplit('.', 1)[-1]}: {message}"
    if matches:
        name, message = matches[-1]
        return f"{name.rsplit('.', 1)[-1]}: {message}"
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no error message from Flink"
