"""Hooks of a blue/green run: callables run after the step that entered a phase."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.strategy.bluegreen import BlueGreenRun

Hook = Callable[["BlueGreenRun"], None]


def chained(*hook_maps: Mapping[str, Hook]) -> dict[str, Hook]:
    """One hook per phase calling each map's hook for it, in order."""
    phases = {phase for hooks in hook_maps for phase in hooks}

    def chain(phase: str) -> Hook:
        def call(run: BlueGreenRun) -> None:
            for hooks in hook_maps:
                if phase in hooks:
                    hooks[phase](run)
        return call
    return {phase: chain(phase) for phase in phases}
