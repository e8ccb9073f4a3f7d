import os
import subprocess

import pytest

from harness.pipeline import PipelineError, changed_tables_between
from tests.unit.pipeline.builders import DIAMOND, dml, plain_project


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t",
                    "-c", "commit.gpgsign=false", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    project = plain_project(tmp_path / "repo" / "pipeline", DIAMOND)
    repo = tmp_path / "repo"
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1", "--no-verify")
    _git(repo, "tag", "v1")
    (project / "int_b.sql").write_text(
        (project / "int_b.sql").read_text().replace("p0.val", "p0.val * 2"))
    (project / "fct_d.sql").write_text(  # whitespace only: not a change
        (project / "fct_d.sql").read_text().replace("\nFROM", "\n   FROM"))
    (project / "int_new.sql").write_text(dml("int_new", "src_a"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v2", "--no-verify")
    return repo


def test_changed_tables_between_two_commits(repo):
    model, changed = changed_tables_between(repo / "pipeline", "v1", "HEAD")
    assert changed == ["int_b", "int_new"]
    assert "p0.val * 2" in model.tables["int_b"].dml
    assert model.tables["int_b"].dml_path == repo / "pipeline" / "int_b.sql"


def test_bad_ref_names_the_ref(repo):
    with pytest.raises(PipelineError, match=r"git ref 'nope' is not a commit.*rev-parse"):
        changed_tables_between(repo / "pipeline", "nope", "HEAD")


def test_folder_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(PipelineError, match="not inside a git repository"):
        changed_tables_between(tmp_path, "HEAD~1", "HEAD")
