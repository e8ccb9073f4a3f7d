"""Cleaning up after a crashed blue/green run, from its recorded state."""

import json

import httpx
import pytest

from harness.cli import main
from harness.errors import CutoverError
from harness.flink.errors import FlinkError
from harness.flink.rest import JobStatus
from harness.strategy.bluegreen_state import STATE_FILE, cleanup_recorded


class FakeRest:
    """Jobs by id with a state; an unknown id is a 404, as Flink answers."""

    def __init__(self, states, *, down=False):
        self.states, self.down, self.cancelled = dict(states), down, []

    def job(self, job_id):
        if self.down:
            raise httpx.ConnectError("connection refused")
        if job_id not in self.states:
            raise FlinkError(f"GET /jobs/{job_id} returned HTTP 404", "not found")
        return JobStatus(job_id, job_id, self.states[job_id])

    def cancel(self, job_id, *, wait=True):
        self.cancelled.append(job_id)


def bundle(tmp_path):
    (tmp_path / STATE_FILE).write_text(json.dumps({
        "phase": "plan_deploying", "rest_url": "http://127.0.0.1:9",
        "statements": {"src_a": "j1", "int_b_v2": "j2", "fct_c_v2": "j3", "gone": "j4"}}))
    return tmp_path


def test_running_jobs_are_cancelled_and_ended_or_unknown_ones_named(tmp_path):
    rest = FakeRest({"j1": "RUNNING", "j2": "RESTARTING", "j3": "FAILED"})
    found = cleanup_recorded(bundle(tmp_path), client=rest)
    assert found == {"cancelled": ["int_b_v2", "src_a"], "ended": ["fct_c_v2"],
                     "unknown": ["gone"]}
    assert sorted(rest.cancelled) == ["j1", "j2"]


def test_an_unreachable_cluster_is_named_with_the_fix(tmp_path):
    with pytest.raises(CutoverError, match=r"127\.0\.0\.1:9 does not answer.*--rest-url"):
        cleanup_recorded(bundle(tmp_path) / STATE_FILE, client=FakeRest({}, down=True))


def test_a_folder_without_a_state_file_exits_2_naming_what_to_give(tmp_path, capsys):
    assert main(["cleanup", str(tmp_path)]) == 2
    assert "no blue/green state file" in capsys.readouterr().err
