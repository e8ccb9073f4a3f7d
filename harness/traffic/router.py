"""The Router interface: point versions at their addresses, set and read their weights."""

from __future__ import annotations

from abc import ABC, abstractmethod

from harness.errors import CutoverError


class RouterError(CutoverError):
    """The router refused a change; carries its answer."""


class Router(ABC):
    """Splits traffic between named versions (``stable``, ``canary``) by percentage."""

    @abstractmethod
    def set_address(self, version: str, host: str, port: int) -> None:
        """Send ``version``'s share of traffic to ``host:port``."""

    @abstractmethod
    def set_weights(self, percentages: dict[str, int]) -> None:
        """Set each version's share (percent, summing to 100) without dropping requests."""

    @abstractmethod
    def weights(self) -> dict[str, int]:
        """Each version's current share, in percent."""

    @abstractmethod
    def requests(self) -> dict[str, int]:
        """Requests each version has been sent so far (the router's own counters)."""


def check_percentages(percentages: dict[str, int]) -> None:
    if any(not 0 <= p <= 100 for p in percentages.values()) or \
            sum(percentages.values()) != 100:
        raise RouterError(f"weights {percentages} must be percentages summing to 100")
