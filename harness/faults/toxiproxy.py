"""A small client of Toxiproxy's HTTP API: proxies, and the toxics that degrade them."""

from __future__ import annotations

from typing import Any

import httpx

from harness.errors import CutoverError

FLINK_KAFKA = "flink-kafka"  # Flink's statements -> the broker's FLINK listener


class ToxiproxyError(CutoverError):
    """Toxiproxy refused a request; the message has its answer."""


class ToxiproxyClient:
    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout_s)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, self.url + path, json=body)
        except httpx.HTTPError as exc:
            raise ToxiproxyError(f"Toxiproxy at {self.url} not answering "
                                 f"({type(exc).__name__}: {exc})") from exc
        if response.status_code >= 300:
            raise ToxiproxyError(f"Toxiproxy {method} {path}: HTTP {response.status_code} "
                                 f"{response.text[:300]}")
        return response.json() if response.content else None

    def create_proxy(self, name: str, *, listen: str, upstream: str) -> dict[str, Any]:
        """Create (or replace) proxy ``name`` from ``listen`` to ``upstream``."""
        proxies = self._call("GET", "/proxies") or {}
        if name in proxies:
            self._call("DELETE", f"/proxies/{name}")
        result: dict[str, Any] = self._call("POST", "/proxies", {
            "name": name, "listen": listen, "upstream": upstream, "enabled": True})
        return result

    def proxies(self) -> dict[str, Any]:
        return dict(self._call("GET", "/proxies") or {})

    def add_toxic(self, proxy: str, name: str, kind: str, attributes: dict[str, Any], *,
                  stream: str = "downstream", toxicity: float = 1.0) -> None:
        self._call("POST", f"/proxies/{proxy}/toxics", {
            "name": name, "type": kind, "stream": stream, "toxicity": toxicity,
            "attributes": attributes})

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        self._call("POST", f"/proxies/{proxy}", {"enabled": enabled})

    def close(self) -> None:
        self._http.close()
