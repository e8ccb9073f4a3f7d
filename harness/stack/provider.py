"""The Provider interface: what the stack asks of whatever runs its services (the
registry of the providers that exist is :mod:`harness.stack.providers`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from harness.config import Config
from harness.errors import UnknownNameError
from harness.stack.endpoint import Endpoint
from harness.stack.service import Service


class Provider(ABC):
    """Makes services of the stack available; the same Endpoints whatever runs them."""

    name: ClassVar[str]

    def __init__(self, config: Config, run_dir: Path,
                 progress: Callable[[str], None] = lambda _msg: None) -> None:
        self.config = config
        self.run_dir = run_dir
        self.progress = progress

    @classmethod
    @abstractmethod
    def service_names(cls) -> list[str]:
        """Services this provider can run, in start order."""

    @abstractmethod
    def service(self, name: str, running: dict[str, Endpoint]) -> Service:
        """A new, not yet started service called ``name``.

        ``running`` holds the endpoints of the services it depends on, already ready.
        """

    def dependencies(self, name: str) -> list[str]:
        """Services that must be ready before ``name`` starts."""
        return []

    def check(self, names: list[str]) -> None:  # noqa: B027 - optional hook
        """Fail fast, before anything starts, when a prerequisite is missing."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """After every service stopped: release what the provider itself holds."""

    def require_known(self, name: str) -> None:
        if name not in self.service_names():
            raise UnknownNameError("service", name, self.service_names())
