"""An honest fake MetricSource: canned answers per query, for tests only."""

from __future__ import annotations

from harness.analysis import MetricSourceError, Sample


class FakeMetricSource:
    """Answers each known PromQL string with canned samples and records what was asked."""

    def __init__(self, answers: dict[str, list[Sample]], *, online: bool = True) -> None:
        self.answers = answers
        self.online = online
        self.asked: list[tuple[str, float | None]] = []

    def query(self, promql: str, *, at: float | None = None) -> list[Sample]:
        self.asked.append((promql, at))
        if not self.online:
            raise MetricSourceError("fake source is offline; construct it with online=True")
        if promql not in self.answers:
            raise MetricSourceError(f"fake source has no answer for {promql!r}; add one")
        return list(self.answers[promql])

    def is_online(self) -> bool:
        return self.online
