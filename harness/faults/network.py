"""Network faults with Toxiproxy on a proxy of the stack (``flink-kafka``).

Actions: ``latency`` (``latency_ms``, ``jitter_ms``), ``bandwidth`` (``rate_kb_s``),
``reset`` (connections reset after ``timeout_ms``), ``timeout`` (data stops, connections
close after ``timeout_ms``; 0 holds them), ``down`` (the proxy refuses connections). A
toxic acts on both directions unless ``params.stream`` names one; healing removes it.
"""

from __future__ import annotations

from typing import Any

from harness.errors import ConfigError, UnknownNameError
from harness.faults.base import Fault, FaultSpec
from harness.faults.toxiproxy import ToxiproxyClient

# action -> (Toxiproxy toxic type, its attributes from the params)
TOXICS: dict[str, tuple[str, dict[str, tuple[str, float]]]] = {
    "latency": ("latency", {"latency": ("latency_ms", 500), "jitter": ("jitter_ms", 0)}),
    "bandwidth": ("bandwidth", {"rate": ("rate_kb_s", 64)}),
    "reset": ("reset_peer", {"timeout": ("timeout_ms", 0)}),
    "timeout": ("timeout", {"timeout": ("timeout_ms", 0)}),
}
ACTIONS = (*TOXICS, "down")
STREAMS = ("downstream", "upstream")


class NetworkFault(Fault):
    """One toxic (or the proxy disabled) on proxy ``spec.target``."""

    def __init__(self, spec: FaultSpec, client: ToxiproxyClient) -> None:
        super().__init__(spec)
        if spec.action not in ACTIONS:
            raise UnknownNameError("network fault action", spec.action, list(ACTIONS), option=False)
        stream = spec.params.get("stream")
        if stream is not None and stream not in STREAMS:
            raise ConfigError(f"fault {spec.label}: stream must be one of "
                              f"{', '.join(STREAMS)} (or absent: both), got {stream!r}")
        self.client = client
        self.streams = [stream] if stream else list(STREAMS)
        proxies = client.proxies()
        if spec.target not in proxies:
            client.close()
            raise UnknownNameError("Toxiproxy proxy", spec.target, list(proxies) or ["none"],
                                   option=False)
        self._added: list[str] = []

    def inject(self) -> dict[str, Any]:
        if self.spec.action == "down":
            self.client.set_enabled(self.spec.target, False)
            return {"proxy": self.spec.target, "enabled": False}
        kind, attributes = TOXICS[self.spec.action]
        values = {name: float(self.spec.params.get(param, default))
                  for name, (param, default) in attributes.items()}
        for stream in self.streams:
            name = f"cutover-{self.spec.action}-{stream}"
            self.client.add_toxic(self.spec.target, name, kind,
                                  {k: int(v) for k, v in values.items()}, stream=stream)
            self._added.append(name)
        return {"proxy": self.spec.target, "toxic": kind, "attributes": values,
                "streams": self.streams}

    def heal(self) -> dict[str, Any]:
        try:
            if self.spec.action == "down":
                self.client.set_enabled(self.spec.target, True)
                return {"enabled": True}
            for name in self._added:
                self.client.remove_toxic(self.spec.target, name)
            removed, self._added = self._added, []
            return {"removed": removed}
        finally:
            self.client.close()
