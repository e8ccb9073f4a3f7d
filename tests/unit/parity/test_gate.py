"""The parity gate's rounds, with fakes of the two sides (named as such)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from harness.fakes import FakeClock
from harness.parity import DiffSpec, ParityCheck, PostgresSnapshot, run_parity


def rows(pairs):
    return pa.table({"ticker": [t for t, _ in pairs], "n": pa.array([n for _, n in pairs],
                                                                    pa.int64())})


@dataclass
class FakeRelation:
    """A PostgreSQL relation whose contents the test changes between reads."""

    states: list  # the table at each snapshot; the last one repeats
    now_after: dict = field(default_factory=dict)  # snapshot index -> current table
    label: str = "postgres fake"
    reads: int = 0

    def snapshot(self):
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return PostgresSnapshot(rows(state), f"0/{self.reads}", self.label)

    def rows_for(self, key, keys):
        current = self.now_after.get(self.reads - 1,
                                     self.states[min(self.reads - 1, len(self.states) - 1)])
        wanted = {k["ticker"] for k in keys}
        return rows([p for p in current if p[0] in wanted])


@dataclass
class FakeIceberg:
    states: list
    label: str = "iceberg fake"
    reads: int = 0

    def read(self):
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return rows(state)


def gate(relation, iceberg, *, budget_s=5.0, settle=None):
    clock = FakeClock(0.0, min_sleep_s=0.5)
    check = ParityCheck("t", relation, iceberg, DiffSpec(("ticker",)), budget_s=budget_s)
    return run_parity(check, settle=settle, clock=clock, pause=clock.sleep)


def test_agreeing_sides_pass_in_one_round():
    verdict = gate(FakeRelation([[("A", 1), ("B", 2)]]), FakeIceberg([[("A", 1), ("B", 2)]]))
    assert verdict.ok and verdict.rounds == 1 and verdict.lsn == "0/1"
    assert verdict.result().ok and "agree" in verdict.result().summary


def test_a_key_the_pipeline_has_not_reached_yet_passes_on_a_later_round():
    relation = FakeRelation([[("A", 2), ("B", 2)]])
    iceberg = FakeIceberg([[("A", 1), ("B", 2)], [("A", 2), ("B", 2)]])
    verdict = gate(relation, iceberg)
    assert verdict.ok and verdict.rounds == 2


def test_a_stale_key_fails_closed_at_the_budget_with_the_key_and_the_settle_problem():
    relation = FakeRelation([[("A", 2), ("B", 2)]])
    iceberg = FakeIceberg([[("A", 1), ("B", 2)]])
    verdict = gate(relation, iceberg, settle=lambda _timeout: "fct stopped")
    result = verdict.result()
    assert not result.ok and verdict.rounds > 1
    assert [d.key for d in verdict.settled] == [{"ticker": "A"}] and not verdict.in_flight
    assert "unchanged in PostgreSQL since LSN" in result.summary
    assert result.evidence["settle_problem"] == "fct stopped"
    assert result.evidence["differences"][0]["left"] == {"n": 2}


def test_a_source_that_never_holds_still_fails_and_says_to_hold_its_writes():
    states = [[("A", i)] for i in range(1, 30)]
    relation = FakeRelation(states, now_after={i: [("A", i + 2)] for i in range(30)})
    verdict = gate(relation, FakeIceberg([[("A", 0)]]))
    assert not verdict.ok and verdict.in_flight and not verdict.settled
    assert "hold its writes during the gate" in verdict.summary()
