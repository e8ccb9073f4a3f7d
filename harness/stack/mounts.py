"""Size-limited filesystems (tmpfs) the stack mounts for disk faults, and their cleanup.

A fault may fill only a filesystem cutover mounted itself: never the machine's disk.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.errors import ServiceStartError

FSTYPE = "tmpfs"
SOURCE = "cutover-limited"  # the device name of our mounts in /proc/mounts


def mounts_under(root: Path, *, table: str | None = None) -> list[Path]:
    """Our size-limited mounts at or below ``root``, deepest first (``table``: the text
    of /proc/mounts, read when not given)."""
    found = []
    if table is None:
        try:
            table = Path("/proc/mounts").read_text()
        except OSError:
            return []
    for line in table.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == SOURCE and parts[2] == FSTYPE:
            path = Path(parts[1].replace("\\040", " "))
            if path == root or root in path.parents:
                found.append(path)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def is_limited_mount(path: Path) -> bool:
    """True when ``path`` is the mount point of one of our size-limited filesystems."""
    return path.resolve() in mounts_under(path.resolve())


def mount_limited(path: Path, size_mb: int, *, service: str) -> None:
    """Mount a tmpfs of ``size_mb`` at ``path`` (created); ServiceStartError with the
    mount's own error when the machine refuses (mounting needs root)."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", FSTYPE, "-o", f"size={size_mb}m,mode=0777",
                             SOURCE, str(path)], capture_output=True, text=True,
                            check=False, timeout=30)
    if result.returncode != 0:
        raise ServiceStartError(
            service, f"could not mount a {size_mb} MB filesystem at {path} for disk faults: "
            f"{(result.stderr or result.stdout).strip()} (exit {result.returncode}); "
            "mounting needs root: run as root, or without disk faults "
            "(--cutover-warehouse-size-mb 0, CUTOVER_WAREHOUSE_SIZE_MB=0)")


def unmount_all(root: Path) -> list[Path]:
    """Unmount our filesystems under ``root`` (lazily, so a busy one goes too)."""
    done = []
    for path in mounts_under(root):
        if subprocess.run(["umount", "-l", str(path)], capture_output=True,
                          check=False, timeout=30).returncode == 0:
            done.append(path)
    return done
