"""Read a pipeline project from disk: a shift_left layout or a plain folder of .sql files."""

from __future__ import annotations

from pathlib import Path

from harness.pipeline.errors import PipelineError
from harness.pipeline.model import PipelineModel
from harness.pipeline.plainfolder import load_plain_folder
from harness.pipeline.shiftleft import find_pipelines_root, load_shift_left

__all__ = ["load_pipeline", "load_plain_folder", "load_shift_left"]


def load_pipeline(path: Path | str) -> PipelineModel:
    """Load a pipeline project, telling a shift_left layout from a plain folder.

    A shift_left layout has ``pipelines/<sources|intermediates|facts|dimensions|views>/``
    folders holding ``<table>/sql-scripts/`` folders; ``path`` may be the project root
    or its ``pipelines`` folder. Anything else is read as a plain folder of .sql files.

    Args:
        path: The project folder.

    Returns:
        The pipeline model; ``warnings`` lists what could not be read exactly.

    Raises:
        PipelineError: The folder is missing or empty, a file is unreadable or
            malformed, or the statements form a cycle or write one table twice.
    """
    root = Path(path)
    if not root.is_dir():
        raise PipelineError(f"pipeline folder {root} does not exist; pass the folder that "
                            f"holds the project's .sql files (or its pipelines/ folder)")
    pipelines = find_pipelines_root(root)
    if pipelines is not None:
        return load_shift_left(pipelines)
    return load_plain_folder(root)
