"""What to do about a job that did not settle: one line per blocker, naming the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import httpx

from harness.flink.errors import FlinkError

Getter = Callable[..., Any]


class SettleStatusLike(Protocol):
    """The parts of a settle pass the hints read."""

    @property
    def positions(self) -> dict[str, dict[str, int]]: ...

    @property
    def lag(self) -> dict[str, dict[str, int]]: ...


def _free_slots(get: Getter) -> int:
    try:
        return int(get("/overview").get("slots-available", -1))
    except (FlinkError, httpx.HTTPError):
        return -1


def likely_fix(get: Getter, name: str, kind: str, jid: str, first: SettleStatusLike,
               last: SettleStatusLike) -> str:
    """The likely fix for one job blocked by ``kind`` (see ``SettleStatus.waiting_on``)."""
    if kind in ("not-running", "tasks"):
        try:
            exc = get(f"/jobs/{jid}/exceptions", maxExceptions="1")
            root = str(exc.get("root-exception") or "").strip().split("\n")[0]
        except (FlinkError, httpx.HTTPError):  # a job the cluster does not know
            root = ""
        if kind == "tasks" and _free_slots(get) == 0:
            return (f"job {name} ({jid}) waits for a task slot: the cluster has none free; "
                    "raise --cutover-flink-slots or run fewer statements at once")
        return (f"job {name} ({jid}) is not running{f' ({root})' if root else ''}: "
                "resubmit it, or leave it out of the jobs to settle")
    if kind == "behind":
        now, then = last.positions.get(name, {}), first.positions.get(name, {})
        stuck = [tp for tp, n in last.lag.get(name, {}).items() if n and now.get(tp) ==
                 then.get(tp)]
        return (f"job {name}'s source is not reading {stuck[0]} (its position did not "
                "move): check its TaskManager log, backpressure and the topic" if stuck
                else f"job {name} reads, but slower than its input: give it more time "
                "(`--settle-timeout-s`; `settle_timeout_s=` of factories.bluegreen) or "
                "less data (`--records`)")
    return {"no-source-metrics": f"job {name} reports no Kafka source metrics: does it "
                                 "read Kafka, and were its splits assigned?",
            "checkpoint": f"job {name} completed no checkpoint after catching up: is "
                          f"checkpointing on and succeeding? (GET /jobs/{jid}/checkpoints)",
            "open-transaction": f"{name}: a transactional producer (an exactly-once sink) "
                                "holds a transaction open: is its job checkpointing?",
            "unknown-topic": f"{name}: a topic it reads is missing or ambiguous",
            "error": "Flink's REST API or Kafka failed the pass: are they up?",
            }.get(kind, "end offsets keep moving: is something still producing?")
