"""What the CLI prints when it fails: a bug of cutover's is one clear line and a file."""

import re
from pathlib import Path

from harness import cli


def boom(_args):
    raise KeyError("no_such_column")


def test_an_unexpected_exception_is_named_as_cutovers_bug_with_its_traceback_in_a_file(
        monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("CUTOVER_TRACEBACK", raising=False)
    monkeypatch.setattr(cli, "cmd_status", boom)  # the parser binds it when built
    assert cli.main(["status"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "internal error: KeyError: 'no_such_column'" in err and "bug in cutover" in err
    saved = Path(re.search(r"traceback is in (\S+)", err)[1])
    assert "Traceback (most recent call last)" in saved.read_text()
    assert "no_such_column" in saved.read_text()


def test_cutover_traceback_prints_it(monkeypatch, capsys):
    monkeypatch.setenv("CUTOVER_TRACEBACK", "1")
    monkeypatch.setattr(cli, "cmd_status", boom)  # the parser binds it when built
    assert cli.main(["status"]) == 3
    assert "Traceback (most recent call last)" in capsys.readouterr().err
