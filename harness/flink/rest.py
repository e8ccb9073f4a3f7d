"""The Flink cluster's REST API: jobs, their state, cancel, stop-with-savepoint, restarts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from harness.flink.errors import FlinkError, root_message

TERMINAL = {"FINISHED", "CANCELED", "FAILED", "SUSPENDED"}


@dataclass(frozen=True)
class JobStatus:
    """A job as the JobManager reports it."""

    job_id: str
    name: str
    state: str


class FlinkRestClient:
    """Jobs of a session cluster, by its REST URL."""

    def __init__(self, rest_url: str, *, timeout_s: float = 30.0) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.http = httpx.Client(base_url=self.rest_url, timeout=timeout_s)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            errors = response.json().get("errors", []) if response.content else []
            raise FlinkError(f"{method} {path} returned HTTP {response.status_code}",
                             root_message(errors), detail="\n".join(errors))
        return response.json() if response.content else {}

    def jobs(self) -> list[JobStatus]:
        """Every job the cluster knows, running or not."""
        data = self._request("GET", "/jobs/overview")
        return [JobStatus(j["jid"], j["name"], j["state"]) for j in data["jobs"]]

    def job(self, job_id: str) -> JobStatus:
        data = self._request("GET", f"/jobs/{job_id}")
        return JobStatus(data["jid"], data["name"], data["state"])

    def restarts(self, job_id: str) -> int:
        """How many times the job restarted after a failure (metric numRestarts)."""
        data = self._request("GET", f"/jobs/{job_id}/metrics", params={"get": "numRestarts"})
        return int(data[0]["value"]) if data else 0

    def records_read(self, job_id: str) -> int:
        """Records the job's sources have emitted so far: grows while its inputs advance.

        Sums each source operator's ``numRecordsOut`` over subtasks (task-level record
        counters stay 0 when source and sink are chained into one task).
        """
        total = 0
        for vertex in self._request("GET", f"/jobs/{job_id}").get("vertices", []):
            path = f"/jobs/{job_id}/vertices/{vertex['id']}"
            names = {m["id"].split(".", 1)[1] for m in self._request("GET", f"{path}/metrics")
                     if ".Source__" in m["id"] and m["id"].endswith(".numRecordsOut")}
            if names:
                values = self._request("GET", f"{path}/subtasks/metrics",
                                       params={"get": ",".join(sorted(names)), "agg": "sum"})
                total += sum(int(float(v.get("sum", 0))) for v in values)
        return total

    def wait_for_state(self, job_id: str, states: set[str], *, timeout_s: float = 60.0) -> str:
        """Wait until the job is in one of ``states``; a terminal other state fails fast."""
        deadline = time.monotonic() + timeout_s
        state = "UNKNOWN"
        while time.monotonic() < deadline:
            state = self.job(job_id).state
            if state in states:
                return state
            if state in TERMINAL:
                break
            time.sleep(0.2)
        raise FlinkError(f"job {job_id} did not reach {sorted(states)}",
                         f"it is {state} after waiting up to {timeout_s:.0f}s")

    def cancel(self, job_id: str, *, timeout_s: float = 60.0, wait: bool = True) -> None:
        """Cancel a job; with ``wait``, until it is CANCELED."""
        self._request("PATCH", f"/jobs/{job_id}", params={"mode": "cancel"})
        if wait:
            self.wait_for_state(job_id, {"CANCELED"}, timeout_s=timeout_s)

    def stop_with_savepoint(self, job_id: str, target_dir: str, *,
                            timeout_s: float = 120.0) -> str:
        """Stop a job with a savepoint; returns the savepoint's location."""
        trigger = self._request("POST", f"/jobs/{job_id}/stop",
                                json={"drain": False, "targetDirectory": target_dir})
        request_id = trigger["request-id"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self._request("GET", f"/jobs/{job_id}/savepoints/{request_id}")
            if status["status"]["id"] == "COMPLETED":
                operation = status.get("operation", {})
                if "failure-cause" in operation:
                    cause = operation["failure-cause"]
                    raise FlinkError(f"savepoint of job {job_id} failed",
                                     cause.get("class", "") + ": " +
                                     str(cause.get("stack-trace", "")).splitlines()[0])
                self.wait_for_state(job_id, {"FINISHED"}, timeout_s=timeout_s)
                return str(operation["location"])
            time.sleep(0.2)
        raise FlinkError(f"savepoint of job {job_id}", f"not complete after {timeout_s:.0f}s")

    def close(self) -> None:
        self.http.close()
