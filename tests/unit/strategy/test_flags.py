import dataclasses
import json
import os

import pytest

from harness.errors import CutoverError
from harness.strategy.flags import SEED_KEYS, FeatureFlags, Flags, FlagsError


@pytest.fixture
def flags(tmp_path):
    return FeatureFlags(tmp_path / "flags" / "canary.json")


def test_missing_file_reads_as_defaults(flags):
    assert flags.read() == Flags(canary_enabled=False, canary_version="",
                                 canary_traffic_percentage=0, auto_promotion_enabled=False)
    assert not flags.path.exists()


def test_update_changes_only_what_is_named_and_another_reader_sees_it(flags):
    written = flags.update(canary_enabled=True, canary_version="v2")
    assert written == Flags(canary_enabled=True, canary_version="v2")
    flags.update(canary_traffic_percentage=30)
    service_view = FeatureFlags(flags.path).read()  # the service reads the same file
    assert service_view == Flags(canary_enabled=True, canary_version="v2",
                                 canary_traffic_percentage=30)
    assert json.loads(flags.path.read_text())["canary_traffic_percentage"] == 30


def test_flags_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Flags().canary_enabled = True  # type: ignore[misc]


@pytest.mark.parametrize("changes, fragment", [
    ({"canary_enabeld": True}, "unknown flag 'canary_enabeld'"),
    ({"canary_enabled": "true"}, "canary_enabled must be bool"),
    ({"canary_traffic_percentage": True}, "must be int"),
    ({"canary_traffic_percentage": 30.0}, "must be int"),
    ({"canary_traffic_percentage": 101}, "within 0..100"),
    ({"canary_version": 2}, "must be str"),
])
def test_invalid_updates_are_refused_and_nothing_is_written(flags, changes, fragment):
    with pytest.raises(FlagsError, match=fragment) as caught:
        flags.update(**changes)
    assert isinstance(caught.value, CutoverError)
    assert not flags.path.exists()


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"canary_enabled": "yes"}'])
def test_unreadable_file_names_the_file_and_the_fix(flags, text):
    flags.path.parent.mkdir(parents=True)
    flags.path.write_text(text)
    with pytest.raises(FlagsError) as caught:
        flags.read()
    assert str(flags.path) in str(caught.value)
    assert "delete" in str(caught.value)


def test_writes_are_atomic_and_leave_no_temporary_files(flags, monkeypatch):
    flags.update(canary_traffic_percentage=10)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        flags.update(canary_traffic_percentage=50)
    monkeypatch.undo()
    assert flags.read().canary_traffic_percentage == 10
    assert [p.name for p in flags.path.parent.iterdir()] == [flags.path.name]


def test_seed_keys_name_the_app_configuration_flags():
    seed = Flags(canary_enabled=True, canary_version="v2", canary_traffic_percentage=10,
                 auto_promotion_enabled=False).to_seed()
    assert seed == {"feature.canary-enabled": "true", "feature.canary-version": "v2",
                    "deployment.canary-traffic-percentage": "10",
                    "deployment.canary-auto-promotion-enabled": "false"}
    assert set(SEED_KEYS) == {f.name for f in dataclasses.fields(Flags)}
