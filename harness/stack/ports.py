"""Port allocation on 127.0.0.1."""

from __future__ import annotations

import socket
import threading

from harness.errors import PortInUseError

HOST = "127.0.0.1"

_lock = threading.Lock()
_handed_out: set[int] = set()


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when a listening socket can bind ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def allocate_port(requested: int = 0, *, purpose: str, option: str = "", host: str = HOST) -> int:
    """Return a port for ``purpose``.

    ``requested`` 0 picks a free port the kernel offers (never one this process already
    handed out); any other value must be free, or :class:`PortInUseError` names the fix.
    """
    if requested:
        if not port_is_free(requested, host):
            hint = f"pass another with {option}, or " if option else ""
            raise PortInUseError(
                f"port {requested} on {host} for {purpose} is already taken by another "
                f"process; {hint}set it to 0 to let cutover pick a free port"
            )
        return requested
    with _lock:
        for _ in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((host, 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise PortInUseError(f"no free port found on {host} for {purpose} after 50 tries")
