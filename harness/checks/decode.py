"""Decoding sink records as consumers do: JSON, or Avro in the Confluent wire format.

Tables in ``avro-registry`` (``avro-confluent`` on open-source Flink) are written as a zero
byte, a 4-byte schema id and the Avro binary; the schema comes from the registry by id
(cached). Anything else is read as JSON; what is neither is kept as its hex prefix, so a
check can show it instead of failing to read the topic.
"""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import fastavro
import httpx

from harness.errors import CutoverError

_MAGIC = 0


class DecodeError(CutoverError):
    """A record names a schema the registry does not have."""


def _json_or_raw(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {"__undecodable__": raw[:64].hex()}


class RecordDecoder:
    """Decodes values (and keys) of sink topics; ``registry_url`` empty reads JSON only."""

    def __init__(self, registry_url: str = "", *, timeout_s: float = 10.0) -> None:
        self.registry_url = registry_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout_s) if registry_url else None
        self._schemas: dict[int, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, raw: bytes) -> Any:
        if self._http is not None and len(raw) > 5 and raw[0] == _MAGIC:
            schema = self._schema(int.from_bytes(raw[1:5], "big"))
            return fastavro.schemaless_reader(io.BytesIO(raw[5:]), schema)
        return _json_or_raw(raw)

    def _schema(self, schema_id: int) -> Any:
        with self._lock:
            if schema_id not in self._schemas:
                assert self._http is not None
                response = self._http.get(f"{self.registry_url}/schemas/ids/{schema_id}")
                if response.status_code != 200:
                    raise DecodeError(f"schema id {schema_id} is not in the registry at "
                                      f"{self.registry_url} (HTTP {response.status_code}); "
                                      "was the topic written through another registry?")
                text = response.json()["schema"]
                self._schemas[schema_id] = fastavro.parse_schema(json.loads(text))
            return self._schemas[schema_id]

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
