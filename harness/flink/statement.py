"""A Flink SQL statement as a first-class object: name, SQL, job id, state."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Statement:
    """A long-running statement (usually INSERT INTO ... SELECT) and the job it runs as.

    ``bounded``: it reads no table (INSERT ... VALUES), so its job ends FINISHED once it
    wrote everything; for any other statement FINISHED means it was stopped.
    """

    name: str
    sql: str
    job_id: str | None = None
    bounded: bool = False
    state: str = "NEW"
    history: list[str] = field(default_factory=list)

    def healthy_in(self, state: str | None) -> bool:
        """Whether a job in ``state`` still does this statement's work: RUNNING, or
        FINISHED when the statement is bounded."""
        return state == "RUNNING" or (self.bounded and state == "FINISHED")

    def record(self, state: str) -> None:
        """Remember a state change (RUNNING, CANCELED, FINISHED, FAILED, ...)."""
        if state != self.state:
            self.history.append(state)
            self.state = state
