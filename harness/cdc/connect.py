"""Kafka Connect's REST API: create, pause, resume, restart and delete connectors.

Every call that changes a connector can wait on its real status (the worker's
``/status``), never on time.
"""

from __future__ import annotations

from typing import Any

import httpx

from harness.errors import CutoverError
from harness.wait import wait_until


class ConnectError(CutoverError):
    """Kafka Connect refused a request or a connector failed; carries Connect's message."""


def root_cause(trace: str) -> str:
    """The line of a task's stack trace that says why: a registry rule violation if
    there is one, else the last cause."""
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    for line in lines:
        if "Incompatible" in line or "RuleViolation" in line:
            return line.removeprefix("Caused by: ")
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused")]
    return causes[-1] if causes else (lines[0] if lines else "no trace")


class ConnectClient:
    """Connectors of one Connect cluster, by its REST URL."""

    def __init__(self, url: str, *, timeout_s: float = 30.0) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise ConnectError(f"{method} {path} returned HTTP {response.status_code}: "
                               f"{message}")
        return response.json() if response.content else {}

    def plugins(self) -> list[str]:
        return [p["class"] for p in self._request("GET", "/connector-plugins")]

    def put(self, name: str, config: dict[str, str], *, timeout_s: float = 60.0) -> None:
        """Create or update a connector and wait until it and its tasks run."""
        self._request("PUT", f"/connectors/{name}/config", json=config)
        self.wait_running(name, timeout_s=timeout_s)

    def status(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = self._request("GET", f"/connectors/{name}/status")
        return status

    def state(self, name: str) -> str:
        """RUNNING when the connector and all its tasks run, else the first other state."""
        status = self.status(name)
        states = [status["connector"]["state"], *(t["state"] for t in status["tasks"])]
        if not status["tasks"]:
            states.append("NO_TASKS")
        failed = [t for t in status["tasks"] if t["state"] == "FAILED"]
        if failed:
            raise ConnectError(f"connector {name} task failed: "
                               f"{root_cause(failed[0].get('trace', ''))}")
        return next((s for s in states if s != "RUNNING"), "RUNNING")

    def wait_running(self, name: str, *, timeout_s: float = 60.0) -> None:
        self.wait_state(name, "RUNNING", timeout_s=timeout_s)

    def wait_state(self, name: str, state: str, *, timeout_s: float = 60.0) -> None:
        def check() -> str | None:
            try:
                current = self.state(name)
            except ConnectError as exc:
                if "HTTP 404" not in str(exc):  # status appears a moment after creation
                    raise
                current = "not registered yet"
            return None if current == state else f"connector is {current}"

        wait_until(check, timeout_s=timeout_s, what=f"connector {name} {state}",
                   interval_s=0.3)

    def pause(self, name: str) -> None:
        self._request("PUT", f"/connectors/{name}/pause")
        self.wait_state(name, "PAUSED")

    def resume(self, name: str) -> None:
        self._request("PUT", f"/connectors/{name}/resume")
        self.wait_running(name)

    def restart(self, name: str) -> None:
        """Restart the connector and its tasks, and wait until they run again."""
        self._request("POST", f"/connectors/{name}/restart",
                      params={"includeTasks": "true", "onlyFailed": "false"})
        self.wait_running(name)

    def delete(self, name: str) -> None:
        self._request("DELETE", f"/connectors/{name}")

    def connectors(self) -> list[str]:
        names: list[str] = self._request("GET", "/connectors")
        return names

    def close(self) -> None:
        self.http.close()
