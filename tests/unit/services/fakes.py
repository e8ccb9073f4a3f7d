"""Honest fakes for the data tier's seams, for tests only."""

from __future__ import annotations

from fixtures.services.data_tier.repository import TickerSentiment


class FakeRepository:
    """A SentimentRepository over an in-memory list; ``broken`` makes every call raise."""

    name = "fake"

    def __init__(self, rows: list[TickerSentiment], *, broken: bool = False) -> None:
        self.rows = {row.ticker: row for row in rows}
        self.broken = broken
        self.calls: list[str] = []

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.broken:
            raise RuntimeError("fake repository is broken; construct it with broken=False")

    def ticker_sentiment(self, ticker: str) -> TickerSentiment | None:
        self._call(f"ticker_sentiment {ticker}")
        return self.rows.get(ticker)

    def top_tickers(self, limit: int) -> list[TickerSentiment]:
        self._call(f"top_tickers {limit}")
        ranked = sorted(self.rows.values(),
                        key=lambda r: (r.avg_score is None, -(r.avg_score or 0.0), r.ticker))
        return ranked[:limit]

    def health(self) -> None:
        self._call("health")


class FakeSleep:
    """Records the sleeps asked for instead of sleeping."""

    def __init__(self) -> None:
        self.slept_s: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept_s.append(seconds)
