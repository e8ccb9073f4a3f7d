import json
import threading
from decimal import Decimal

import pytest

from harness.data import Ledger, LedgerError

T = "ns.quotes"


class StepClock:
    """A monotonic clock that advances one second per reading."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        self.now += 1
        return self.now


def v(key, version):
    return {"id": key, "version": version}


def test_acked_keys_and_latest_acked():
    ledger = Ledger()
    ledger.sent(T, "a", v("a", 1))
    ledger.sent(T, "b", v("b", 1))
    ledger.acked(T, "a", 0, 0)
    assert ledger.acked_keys(T) == {"a"}
    ledger.acked(T, "b", 1, 0)
    assert ledger.latest_acked(T) == {"a": v("a", 1), "b": v("b", 1)}


def test_latest_acked_follows_ack_order():
    ledger = Ledger()
    for record in (v("a", 1), v("b", 1), v("a", 2)):
        ledger.sent(T, record["id"], record)
    ledger.acked(T, "a", 0, 0)
    ledger.acked(T, "b", 1, 0)
    assert list(ledger.latest_acked(T)) == ["a", "b"]
    ledger.acked(T, "a", 0, 1)  # settles the oldest unsettled send of "a": version 2
    latest = ledger.latest_acked(T)
    assert list(latest) == ["b", "a"]
    assert latest["a"] == v("a", 2)


def test_failed_delivery_is_not_acked():
    ledger = Ledger()
    ledger.sent(T, "a", v("a", 1))
    ledger.sent(T, "a", v("a", 2))
    ledger.acked(T, "a", 0, 0)
    ledger.failed(T, "a", "Local: Message timed out")
    assert ledger.latest_acked(T) == {"a": v("a", 1)}
    assert ledger.failures(T) == [("a", "Local: Message timed out")]
    assert ledger.counts() == {T: {"sent": 2, "acked": 1, "failed": 1}}


def test_unacked_in_send_order_and_per_topic():
    ledger = Ledger()
    for key in ("c", "a", "b"):
        ledger.sent(T, key, v(key, 1))
    ledger.sent("other", "z", v("z", 1))
    ledger.acked(T, "a", 0, 0)
    assert ledger.unacked(T) == [("c", v("c", 1)), ("b", v("b", 1))]
    assert ledger.unacked("other") == [("z", v("z", 1))]
    assert ledger.unacked("unknown") == []


def test_ack_without_send_is_an_error():
    ledger = Ledger()
    with pytest.raises(LedgerError, match="call sent"):
        ledger.acked(T, "a", 0, 0)
    ledger.sent(T, "a", v("a", 1))
    ledger.failed(T, "a", "boom")
    with pytest.raises(LedgerError):
        ledger.failed(T, "a", "again")


def test_counts_per_topic_and_empty_queries():
    ledger = Ledger()
    ledger.sent(T, "a", v("a", 1))
    ledger.sent("t2", "a", v("a", 1))
    ledger.acked("t2", "a", 0, 5)
    assert ledger.counts() == {T: {"sent": 1, "acked": 0, "failed": 0},
                               "t2": {"sent": 1, "acked": 1, "failed": 0}}
    assert ledger.acked_keys("nothing") == set()
    assert ledger.latest_acked("nothing") == {}


def test_events_carry_sequence_and_monotonic_time():
    ledger = Ledger(clock=StepClock())
    ledger.sent(T, "a", v("a", 1))
    ledger.acked(T, "a", 2, 7)
    assert ledger.events() == [
        {"n": 0, "t": 101.0, "event": "sent", "topic": T, "key": "a", "record": v("a", 1)},
        {"n": 1, "t": 102.0, "event": "acked", "topic": T, "key": "a", "partition": 2,
         "offset": 7},
    ]


def test_records_are_stored_as_their_json():
    ledger = Ledger()
    record = {"id": "a", "price": Decimal("1.50"), "tags": ["x"]}
    ledger.sent(T, "a", record)
    record["tags"].append("changed later")
    ledger.acked(T, "a", 0, 0)
    assert ledger.latest_acked(T) == {"a": {"id": "a", "price": "1.50", "tags": ["x"]}}


def fill(ledger):
    for i in range(5):
        ledger.sent(T, f"k{i % 3}", v(f"k{i % 3}", i))
    ledger.acked(T, "k0", 0, 0)
    ledger.acked(T, "k1", 0, 1)
    ledger.failed(T, "k2", "broker down")
    ledger.acked(T, "k0", 0, 2)


def test_jsonl_round_trip(tmp_path):
    ledger = Ledger()
    fill(ledger)
    path = tmp_path / "ledger.jsonl"
    ledger.to_jsonl(path)
    assert len(path.read_text().splitlines()) == 9
    restored = Ledger.from_jsonl(path)
    assert restored.events() == ledger.events()
    assert restored.latest_acked(T) == ledger.latest_acked(T)
    assert restored.unacked(T) == ledger.unacked(T) == [("k1", v("k1", 4))]
    assert restored.counts() == ledger.counts()


def test_events_are_appended_as_they_happen(tmp_path):
    path = tmp_path / "run" / "ledger.jsonl"
    ledger = Ledger(path)
    ledger.sent(T, "a", v("a", 1))
    lines = path.read_text().splitlines()  # before close: flushed per write
    assert [json.loads(line)["event"] for line in lines] == ["sent"]
    ledger.acked(T, "a", 0, 0)
    assert len(path.read_text().splitlines()) == 2
    ledger.close()
    assert Ledger.from_jsonl(path).latest_acked(T) == {"a": v("a", 1)}


def test_append_mode_keeps_earlier_lines(tmp_path):
    path = tmp_path / "ledger.jsonl"
    with Ledger(path) as first:
        first.sent(T, "a", v("a", 1))
    with Ledger(path) as second:
        second.sent(T, "b", v("b", 1))
    assert [k for k, _ in Ledger.from_jsonl(path).unacked(T)] == ["a", "b"]


def test_a_line_cut_short_by_a_crash_is_ignored(tmp_path):
    path = tmp_path / "ledger.jsonl"
    with Ledger(path) as ledger:
        ledger.sent(T, "a", v("a", 1))
        ledger.acked(T, "a", 0, 0)
    path.write_text(path.read_text() + '{"n": 2, "t": 1.0, "event": "se')
    assert Ledger.from_jsonl(path).acked_keys(T) == {"a"}


def test_a_corrupt_line_names_its_number(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text('not json\n{"n": 0}\n')
    with pytest.raises(LedgerError, match=r"ledger.jsonl:1 is not JSON"):
        Ledger.from_jsonl(path)
    path.write_text('{"n": 0, "t": 0, "event": "acked", "topic": "t", "key": "a"}\n')
    with pytest.raises(LedgerError, match=r"ledger.jsonl:1 is not a valid ledger event"):
        Ledger.from_jsonl(path)


def test_concurrent_writers_lose_nothing(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")

    def writer(n):
        for i in range(300):
            key = f"{n}-{i}"
            ledger.sent(T, key, v(key, 1))
            ledger.acked(T, key, n, i)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger.close()
    assert ledger.counts()[T] == {"sent": 2400, "acked": 2400, "failed": 0}
    assert [e["n"] for e in ledger.events()] == list(range(4800))
    assert len(Ledger.from_jsonl(tmp_path / "ledger.jsonl").acked_keys(T)) == 2400
