"""Errors raised while reading a pipeline project or planning a change to it."""

from __future__ import annotations

from harness.errors import CutoverError


class PipelineError(CutoverError):
    """A pipeline project cannot be read, or a planned change cannot be made.

    Every message names the file or table at fault and how to fix it.
    """
