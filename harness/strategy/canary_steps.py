"""The traffic steps of a canary as they happened: set weight against observed split.

Each step's share is measured twice: from the load generator's ledger (which slot
answered each request, by HAProxy's ``X-Cutover-Slot`` header) and from the router's
own per-server counters. Both must be within the stated tolerance of the set weight;
the half second on either side of a change is left out. Requests in flight at the change
were routed by the old split; and a change is seen a moment after it was made, so the
last requests before it was seen may have been routed by the new one (one request of 33
sent to the canary in a 0 % step failed a CI run that way). Requests without a slot (no
answer, or an error HAProxy made itself) could have been either version's: the ledger's
share is then a range, and the step is off only when the whole range is outside the
tolerance.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from harness.checks.canary import split_tolerance_pct
from harness.traffic.load import LoadGenerator
from harness.traffic.router import Router

SETTLE_S = 0.5


class StepTracker:
    """Call :meth:`observe` with the current weight after each controller step."""

    def __init__(self, load: LoadGenerator, router: Router) -> None:
        self.load, self.router = load, router
        self.steps: list[dict[str, Any]] = []
        self._weight: int | None = None
        self._since = 0.0
        self._counters: dict[str, int] = {}

    def observe(self, weight: int) -> bool:
        """Close the running step when the weight changed; True when it did."""
        if weight == self._weight or (self._weight is None and self.steps
                                      and self.steps[-1]["weight"] == weight):
            return False
        now = time.time()
        counters = self.router.requests()
        if self._weight is not None:
            self.steps.append(self._measure(self._weight, self._since, now, counters))
        self._weight, self._since, self._counters = weight, now, counters
        return True

    def close(self) -> None:
        """Close the running step now: at a decision (before a promotion or rollback
        changes the routing) and at the end of the run."""
        if self._weight is not None:
            now = time.time()
            self.steps.append(self._measure(self._weight, self._since, now,
                                            self.router.requests()))
            self._weight = None

    def _measure(self, weight: int, start: float, end: float,
                 counters: dict[str, int]) -> dict[str, Any]:
        sent = self.load.snapshot(since=start + SETTLE_S,
                                  until=max(start + SETTLE_S, end - SETTLE_S))
        ledger = [o for o in sent if o.slot in ("stable", "canary")]
        # A request with no answer (a timeout, a reset) or an answer the router made
        # itself carries no slot: it may have been either version's, so the ledger's
        # share is only known within a range.
        unattributed = len(sent) - len(ledger)
        canary = sum(o.slot == "canary" for o in ledger)
        observed = 100 * canary / len(ledger) if ledger else 0.0
        low = 100 * canary / len(sent) if sent else 0.0
        high = 100 * (canary + unattributed) / len(sent) if sent else 0.0
        routed_to = {slot: counters.get(slot, 0) - self._counters.get(slot, 0)
                     for slot in ("stable", "canary")}
        routed_total = sum(routed_to.values())
        routed = 100 * routed_to["canary"] / routed_total if routed_total else 0.0
        tolerance = split_tolerance_pct(weight, len(ledger))
        # the router's counters include the settle half second; allow for it
        router_tolerance = split_tolerance_pct(weight, routed_total) + \
            100 * SETTLE_S / max(end - start, SETTLE_S)
        ledger_off = max(low - weight, weight - high, 0.0)  # 0 when the range holds it
        within = (ledger_off <= tolerance
                  and abs(routed - weight) <= router_tolerance) if ledger else True
        return {"weight": weight, "started": round(start, 3), "ended": round(end, 3),
                "duration_s": round(end - start, 2), "requests": len(ledger),
                "observed_pct": round(observed, 2), "router_pct": round(routed, 2),
                "unattributed": unattributed,
                "router_requests": routed_total, "tolerance_pct": round(tolerance, 2),
                "within_tolerance": within}


def with_verdicts(steps: list[dict[str, Any]],
                  analyses: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each step with the analysis verdicts taken during it: ``verdict`` is ``fail`` when
    any analysis failed at that weight, else the last one (``pass``, ``marginal``,
    ``nodata``), or ``none`` when no analysis ran (the 0 % step, an abort);
    ``analyses`` counts them. The decision's own analysis comes just before the step is
    closed, so a small slack past its end is allowed."""
    taken = list(analyses)
    out = []
    for step in steps:
        mine = [a for a in taken if a.get("weight") == step["weight"]
                and step["started"] <= float(a.get("at", 0)) <= step["ended"] + 1.0]
        verdicts = [str(a.get("verdict")) for a in mine]
        verdict = "fail" if "fail" in verdicts else (verdicts[-1] if verdicts else "none")
        out.append({**step, "verdict": verdict, "analyses": len(verdicts)})
    return out
