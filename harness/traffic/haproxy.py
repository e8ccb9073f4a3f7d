"""HaproxyRouter: weights through HAProxy's runtime API, no reload, no dropped requests."""

from __future__ import annotations

import csv
import io
import socket
import threading
from collections import defaultdict

from harness.traffic.router import Router, RouterError, check_percentages

# One lock per admin socket: a weight change is several commands, and two routers of one
# process (a run's, the VirtualService follower's) must not interleave them.
_LOCKS: defaultdict[str, threading.RLock] = defaultdict(threading.RLock)


class HaproxyRouter(Router):
    """Talks to HAProxy's admin socket; one backend, one server per version."""

    def __init__(self, admin_socket: str, backend: str) -> None:
        self.admin_socket, self.backend = admin_socket, backend
        self._lock = _LOCKS[admin_socket]

    def command(self, line: str) -> str:
        """Send one runtime API command; an answer that is not empty or OK is an error."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(self.admin_socket)
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def _apply(self, line: str) -> None:
        answer = self.command(line).strip()
        if answer and not answer.startswith(("IP changed", "no need to change")):
            raise RouterError(f"HAProxy refused {line!r}: {answer}")

    def set_address(self, version: str, host: str, port: int) -> None:
        with self._lock:
            self._apply(f"set server {self.backend}/{version} addr {host} port {port}")

    def set_weights(self, percentages: dict[str, int]) -> None:
        check_percentages(percentages)
        with self._lock:
            for version, weight in sorted(percentages.items(), key=lambda item: -item[1]):
                # Raise the growing share first, so there is never a moment with no server.
                self._apply(f"set server {self.backend}/{version} weight {weight}")
                state = "ready" if weight else "drain"  # drain: finish in-flight, no new
                self._apply(f"set server {self.backend}/{version} state {state}")

    def weights(self) -> dict[str, int]:
        return {row["svname"]: int(row["weight"]) for row in self._servers()}

    def requests(self) -> dict[str, int]:
        return {row["svname"]: int(row["stot"] or 0) for row in self._servers()}

    def in_flight(self) -> dict[str, int]:
        """Sessions each server holds now (requests in flight on it)."""
        return {row["svname"]: int(row["scur"] or 0) for row in self._servers()}

    def _servers(self) -> list[dict[str, str]]:
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return [r for r in rows if r["pxname"] == self.backend
                and r["svname"] not in ("FRONTEND", "BACKEND")]
