"""Service logs of a failed scenario: the part each log grew by while it ran.

The stack is shared by every scenario of a session, so a whole Kafka or Flink log would
bury the failure among every other test's lines. The plugin marks each log's size when a
scenario starts and, if it fails, copies what was written since (capped) into the
scenario's bundle.
"""

from __future__ import annotations

from pathlib import Path

MAX_BYTES = 2_000_000  # per log: the tail beyond this is what people read anyway


def log_marks(paths: list[Path]) -> dict[Path, int]:
    """Each log's current size (0 for a log that does not exist yet)."""
    return {path: (path.stat().st_size if path.exists() else 0) for path in paths}


def copy_since(marks: dict[Path, int], paths: list[Path], dest: Path, *,
               max_bytes: int = MAX_BYTES) -> list[Path]:
    """Copy what each log gained since ``marks`` into ``dest``; the copies' paths."""
    copies = []
    for path in paths:
        if not path.exists():
            continue
        start, size = marks.get(path, 0), path.stat().st_size
        if size < start:  # rotated or truncated: take it whole
            start = 0
        skipped = max(0, size - start - max_bytes)
        with path.open("rb") as handle:
            handle.seek(start + skipped)
            data = handle.read(max_bytes)
        dest.mkdir(parents=True, exist_ok=True)
        copy = dest / _unique_name(dest, path.name)
        header = f"# {path}: bytes {start + skipped}..{start + skipped + len(data)}"
        header += f" (first {skipped} bytes of this scenario's part left out)\n" if skipped \
            else " (written while the scenario ran)\n"
        copy.write_bytes(header.encode() + data)
        copies.append(copy)
    return copies


def _unique_name(dest: Path, name: str) -> str:
    candidate, n = name, 1
    while (dest / candidate).exists():
        n += 1
        candidate = f"{Path(name).stem}-{n}{Path(name).suffix}"
    return candidate
