"""The one atomic writer: whole files, shared permissions, nothing left on failure."""

import json
import stat

import pytest

from harness.atomic import write_json_atomic, write_text_atomic


def test_a_json_file_replaces_the_old_one_whole_and_is_readable_by_others(tmp_path):
    path = tmp_path / "sub" / "state.json"
    write_json_atomic(path, {"b": 1, "a": [1, 2]})
    write_json_atomic(path, {"b": 2})
    assert json.loads(path.read_text()) == {"b": 2}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "flags.json"
    write_text_atomic(path, "old")

    def refuse(*_args):
        raise OSError("disk full")

    monkeypatch.setattr("harness.atomic.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_json_atomic(path, {"x": 1})
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["flags.json"]
