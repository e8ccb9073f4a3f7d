"""A full disk: fill a size-limited filesystem of the stack with a ballast file.

Only filesystems cutover mounted itself (``--cutover-warehouse-size-mb``) are filled;
any other path is refused, so a fault never fills the machine's disk. Healing deletes
the ballast.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, UnknownNameError
from harness.faults.base import Fault, FaultSpec
from harness.stack.mounts import is_limited_mount

CHUNK = 1 << 20


class DiskFull(Fault):
    """``fill`` the filesystem mounted at ``spec.target``, leaving ``params.free_kb``."""

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        if spec.action != "fill":
            raise UnknownNameError("disk fault action", spec.action, ["fill"], option=False)
        self.mount = Path(spec.target)
        if not is_limited_mount(self.mount):
            raise ConfigError(f"fault {spec.label}: {self.mount} is not a size-limited "
                              "filesystem of the stack; disk faults fill only those (start "
                              "the stack with --cutover-warehouse-size-mb N)")
        self.free_kb = int(spec.params.get("free_kb", 0))
        self.ballast = self.mount / ".cutover-ballast"

    def _free_bytes(self) -> int:
        stats = os.statvfs(self.mount)
        return stats.f_bavail * stats.f_frsize

    def inject(self) -> dict[str, Any]:
        before = self._free_bytes()
        written = 0
        with self.ballast.open("wb", buffering=0) as ballast:  # nothing left to flush
            block = b"\0" * CHUNK
            while self._free_bytes() > self.free_kb * 1024:
                room = self._free_bytes() - self.free_kb * 1024
                try:
                    wrote = ballast.write(block[:min(CHUNK, room)]) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
                written += wrote
                if not wrote:  # a short write of nothing: the filesystem is full
                    break
        return {"filesystem": str(self.mount), "free_before_bytes": before,
                "ballast_bytes": written, "free_after_bytes": self._free_bytes()}

    def heal(self) -> dict[str, Any]:
        self.ballast.unlink(missing_ok=True)
        return {"free_after_heal_bytes": self._free_bytes()}
