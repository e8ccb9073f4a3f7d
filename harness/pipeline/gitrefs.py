"""Which tables changed between two git refs of a pipeline project.

Both versions are exported with ``git archive`` into temporary folders and loaded like
any project; nothing in the working tree or the repository changes. A table changed
when its DDL or DML differs (ignoring whitespace) or when it is new.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import replace
from pathlib import Path

from harness.pipeline.errors import PipelineError
from harness.pipeline.loader import load_pipeline
from harness.pipeline.model import PipelineModel, TableStatement


def _git(args: list[str], *, cwd: Path, what: str) -> bytes:
    """Run git and return its stdout; a failure raises naming ``what`` and git's words."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise PipelineError(f"cannot run git for {what}: {exc}; install git") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise PipelineError(f"{what}: git {' '.join(args)} failed: "
                            f"{message[0] if message else 'no message'}")
    return done.stdout


def _repo_root(pipeline_dir: Path) -> Path:
    if not pipeline_dir.is_dir():
        raise PipelineError(f"pipeline folder {pipeline_dir} does not exist; pass a folder "
                            f"inside a git repository")
    out = _git(["rev-parse", "--show-toplevel"], cwd=pipeline_dir,
               what=f"{pipeline_dir} is not inside a git repository (run `git init` or pass "
                    f"a folder of a clone)")
    return Path(out.decode().strip()).resolve()


def _check_ref(repo: Path, ref: str) -> None:
    _git(["rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}"], cwd=repo,
         what=f"git ref {ref!r} is not a commit of {repo} (pass a branch, tag or commit; "
              f"`git log --oneline` lists commits)")


def _export(repo: Path, ref: str, *, relative: Path, into: Path) -> Path:
    """Extract the folder ``relative`` as it is at ``ref`` under ``into``."""
    archive = _git(["archive", "--format=tar", ref, "--", relative.as_posix()], cwd=repo,
                   what=f"{relative} does not exist at ref {ref!r} (check the folder and the "
                        f"ref with `git ls-tree {ref} -- {relative}`)")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / relative


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _reroot(model: PipelineModel, exported: Path, *, real: Path) -> PipelineModel:
    """Point the paths of a model loaded from an export at the same files in ``real``."""
    def moved(path: Path | None) -> Path | None:
        return None if path is None else real / path.resolve().relative_to(exported)

    tables = [replace(table, ddl_path=moved(table.ddl_path), dml_path=moved(table.dml_path))
              for table in model.tables.values()]
    warnings = [w.replace(str(exported), str(real)) for w in model.warnings]
    return PipelineModel(tables, warnings=warnings)


def _load_at(repo: Path, ref: str, *, relative: Path, real: Path) -> PipelineModel:
    with tempfile.TemporaryDirectory(prefix="cutover-git-") as tmp:
        root = Path(tmp).resolve()
        exported = _export(repo, ref, relative=relative, into=root)
        try:
            return _reroot(load_pipeline(exported), exported, real=real)
        except PipelineError as exc:
            text = str(exc).replace(str(exported), str(real))
            raise PipelineError(f"at ref {ref!r}: {text}") from exc


def _differs(old: TableStatement | None, new: TableStatement) -> bool:
    return old is None or any(_normalised(getattr(old, kind)) != _normalised(getattr(new, kind))
                              for kind in ("ddl", "dml"))


def _changed(old: PipelineModel, new: PipelineModel, *, from_ref: str,
             to_ref: str) -> list[str]:
    """Tables new or different in ``new``; externals and removed tables become warnings."""
    changed = []
    for name, table in new.tables.items():
        if not _differs(old.tables.get(name), table):
            continue
        if table.is_external:
            if name not in old.tables:
                continue
            new.warnings.append(
                f"external table {name!r} changed between {from_ref} and {to_ref}, but "
                f"externals are never redeployed; change the statements that read it too")
        else:
            changed.append(name)
    for name in sorted(set(old.tables) - set(new.tables)):
        new.warnings.append(f"table {name!r} exists at {from_ref} but not at {to_ref}; "
                            f"stop its statement by hand once nothing reads it")
    return sorted(changed)


def changed_tables_between(pipeline_dir: Path | str, from_ref: str,
                           to_ref: str) -> tuple[PipelineModel, list[str]]:
    """The model at ``to_ref`` and the tables changed since ``from_ref``.

    See :func:`models_between`, which also returns the model at ``from_ref``.
    """
    _, new, changed = models_between(pipeline_dir, from_ref, to_ref)
    return new, changed


def models_between(pipeline_dir: Path | str, from_ref: str,
                   to_ref: str) -> tuple[PipelineModel, PipelineModel, list[str]]:
    """Load the pipeline at ``to_ref`` and list the tables changed since ``from_ref``.

    External tables whose DDL changed are not listed (they are never redeployed); a
    warning names them so the statement reading them can be changed instead.

    Args:
        pipeline_dir: The project folder, inside a git working tree.
        from_ref: The ref deployed now (branch, tag or commit).
        to_ref: The ref to deploy.

    Returns:
        The models at ``from_ref`` and ``to_ref`` (paths point into the working tree)
        and the changed table names, sorted.

    Raises:
        PipelineError: Not a git repository, an unknown ref, or a project that does not
            load at one of the refs.
    """
    folder = Path(pipeline_dir)
    repo = _repo_root(folder)
    relative = folder.resolve().relative_to(repo)
    for ref in (from_ref, to_ref):
        _check_ref(repo, ref)
    old = _load_at(repo, from_ref, relative=relative, real=folder)
    new = _load_at(repo, to_ref, relative=relative, real=folder)
    return old, new, _changed(old, new, from_ref=from_ref, to_ref=to_ref)
