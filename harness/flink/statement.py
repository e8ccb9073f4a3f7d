"""A Flink SQL statement as a first-class object: name, SQL, job id, state."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Statement:
    """A long-running statement (usually INSERT INTO ... SELECT) and the job it runs as."""

    name: str
    sql: str
    job_id: str | None = None
    state: str = "NEW"
    history: list[str] = field(default_factory=list)

    def record(self, state: str) -> None:
        """Remember a state change (RUNNING, CANCELED, FINISHED, FAILED, ...)."""
        if state != self.state:
            self.history.append(state)
            self.state = state
