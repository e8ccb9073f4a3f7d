"""WriteLoop: background writes that a check can hold still (a fake writer, named so)."""

from __future__ import annotations

import threading

import pytest

from harness.data.write_loop import WriteLoop
from harness.wait import WaitTimeout, wait_until


class FakeWriter:
    """Records batches; ``gate`` lets the test keep a batch in flight."""

    def __init__(self):
        self.batches, self.gate, self.entered = [], threading.Event(), threading.Event()
        self.gate.set()

    def insert(self, rows):
        self.entered.set()
        assert self.gate.wait(5)
        self.batches.append(rows)


def test_writes_flow_and_a_hold_waits_for_the_batch_in_flight():
    writer = FakeWriter()
    loop = WriteLoop(writer, lambda n: [{"id": n}], interval_s=0.01).start()
    wait_until(lambda: None if len(writer.batches) >= 3 else "writing", timeout_s=5,
               what="batches", interval_s=0.01)
    writer.gate.clear()
    writer.entered.clear()
    assert writer.entered.wait(5)  # a batch is in flight now
    held = threading.Thread(target=loop.hold)
    held.start()
    held.join(0.1)
    assert held.is_alive(), "hold() waits for the batch in flight"
    writer.gate.set()
    held.join(5)
    count = len(writer.batches)
    with pytest.raises(WaitTimeout):  # nothing more is written while held
        wait_until(lambda: None if len(writer.batches) > count else "held", timeout_s=0.3,
                   what="a batch while held", interval_s=0.01)
    loop.resume()
    wait_until(lambda: None if len(writer.batches) > count else "resumed", timeout_s=5,
               what="batches after resume", interval_s=0.01)
    loop.stop()
    assert [b[0]["id"] for b in writer.batches] == list(range(len(writer.batches)))


def test_a_failing_write_ends_the_loop_and_stop_raises_it():
    class Broken(FakeWriter):
        def insert(self, rows):
            raise OSError("disk full")

    loop = WriteLoop(Broken(), lambda n: [{"id": n}], interval_s=0.01).start()
    wait_until(lambda: None if loop.error else "running", timeout_s=5, what="the failure",
               interval_s=0.01)
    with pytest.raises(RuntimeError, match="disk full"):
        loop.stop()
