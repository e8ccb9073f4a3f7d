"""A schema registry through its Confluent-compatible REST API.

Compatibility (BACKWARD, FORWARD, FULL, FULL_TRANSITIVE, ...) is enforced by the
registry itself; this client only asks and reports what the registry answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from harness.errors import CutoverError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryError(CutoverError):
    """The registry refused a request; carries its error code and message."""


@dataclass(frozen=True)
class CompatibilityVerdict:
    """What the registry said about a candidate schema under a subject's rule."""

    subject: str
    compatible: bool
    level: str
    messages: list[str]


class SchemaRegistryClient:
    """Subjects, versions and compatibility rules of a Confluent-compatible registry."""

    def __init__(self, url: str, *, timeout_s: float = 30.0) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s,
                                 headers={"Content-Type": CONTENT_TYPE})

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = f"{body.get('error_code', '')} {body.get('message', '')}".strip()
            except ValueError:
                detail = response.text
            raise RegistryError(f"{method} {path}: HTTP {response.status_code} {detail}")
        return response.json() if response.content else {}

    def subjects(self) -> list[str]:
        subjects: list[str] = self._request("GET", "/subjects")
        return subjects

    def versions(self, subject: str) -> list[int]:
        versions: list[int] = self._request("GET", f"/subjects/{subject}/versions")
        return versions

    def schema(self, subject: str, version: int | str = "latest") -> dict[str, Any]:
        data = self._request("GET", f"/subjects/{subject}/versions/{version}")
        parsed: dict[str, Any] = json.loads(data["schema"])
        return parsed

    def set_compatibility(self, subject: str, level: str) -> None:
        self._request("PUT", f"/config/{subject}", json={"compatibility": level})

    def compatibility(self, subject: str) -> str:
        level: str = self._request("GET", f"/config/{subject}")["compatibilityLevel"]
        return level

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """Register an Avro schema under ``subject``; the registry enforces its rule."""
        data = self._request("POST", f"/subjects/{subject}/versions",
                             json={"schema": json.dumps(schema), "schemaType": "AVRO"})
        return int(data["id"])

    def check(self, subject: str, schema: dict[str, Any]) -> CompatibilityVerdict:
        """Ask the registry whether ``schema`` is compatible with the subject's versions."""
        data = self._request("POST", f"/compatibility/subjects/{subject}/versions/latest",
                             params={"verbose": "true"},
                             json={"schema": json.dumps(schema), "schemaType": "AVRO"})
        return CompatibilityVerdict(subject, bool(data.get("is_compatible")),
                                    self.compatibility(subject),
                                    list(data.get("messages", [])))

    def close(self) -> None:
        self.http.close()
