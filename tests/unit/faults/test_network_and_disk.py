"""Network faults against a fake Toxiproxy client, and the disk fault's refusal to fill
any filesystem but the stack's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError, UnknownNameError
from harness.faults.base import FaultSpec
from harness.faults.disk import DiskFull
from harness.faults.network import NetworkFault
from harness.stack.mounts import SOURCE, mounts_under


class FakeToxiproxy:
    """A fake ToxiproxyClient: one proxy, calls recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.closed = False

    def proxies(self) -> dict[str, Any]:
        return {"flink-kafka": {"listen": "127.0.0.1:1"}}

    def add_toxic(self, proxy: str, name: str, kind: str, attributes: dict[str, Any], *,
                  stream: str = "downstream", toxicity: float = 1.0) -> None:
        self.calls.append(("add", proxy, name, kind, attributes, stream))

    def remove_toxic(self, proxy: str, name: str) -> None:
        self.calls.append(("remove", proxy, name))

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        self.calls.append(("enabled", proxy, enabled))

    def close(self) -> None:
        self.closed = True


def test_latency_is_a_toxic_each_way_removed_on_heal() -> None:
    client = FakeToxiproxy()
    fault = NetworkFault(FaultSpec("network", "flink-kafka", "latency",
                                   params={"latency_ms": 300}), client)  # type: ignore[arg-type]
    evidence = fault.inject()
    assert evidence["attributes"] == {"latency": 300.0, "jitter": 0.0}
    assert [c[5] for c in client.calls] == ["downstream", "upstream"]
    assert client.calls[0][4] == {"latency": 300, "jitter": 0}
    fault.heal()
    assert [c[0] for c in client.calls[2:]] == ["remove", "remove"]
    assert client.closed


def test_down_disables_the_proxy_and_heal_enables_it_again() -> None:
    client = FakeToxiproxy()
    fault = NetworkFault(FaultSpec("network", "flink-kafka", "down"), client)  # type: ignore[arg-type]
    fault.inject()
    fault.heal()
    assert client.calls == [("enabled", "flink-kafka", False), ("enabled", "flink-kafka", True)]


def test_an_unknown_proxy_action_or_stream_is_refused_with_the_known_ones() -> None:
    client = FakeToxiproxy()
    with pytest.raises(UnknownNameError, match="flink-kafka"):
        NetworkFault(FaultSpec("network", "kafka-flink", "latency"), client)  # type: ignore[arg-type]
    assert client.closed
    with pytest.raises(UnknownNameError, match=r"bandwidth, down, latency, reset, timeout\. "
                                               r"Pick one of those\.$"):
        NetworkFault(FaultSpec("network", "flink-kafka", "drop"), FakeToxiproxy())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="downstream, upstream"):
        NetworkFault(FaultSpec("network", "flink-kafka", "latency",  # type: ignore[arg-type]
                               params={"stream": "sideways"}), FakeToxiproxy())


def test_only_the_stacks_own_mounts_are_found() -> None:
    table = (f"/dev/sda1 / ext4 rw 0 0\n{SOURCE} /runs/r1/iceberg/warehouse tmpfs rw 0 0\n"
             f"tmpfs /runs/r1/other tmpfs rw 0 0\n{SOURCE} /runs/r2/x tmpfs rw 0 0\n")
    assert mounts_under(Path("/runs/r1"), table=table) == [Path("/runs/r1/iceberg/warehouse")]
    assert mounts_under(Path("/"), table=table) == [Path("/runs/r1/iceberg/warehouse"),
                                                    Path("/runs/r2/x")]


def test_a_disk_fault_refuses_to_fill_any_other_filesystem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a size-limited filesystem of the stack"):
        DiskFull(FaultSpec("disk", str(tmp_path), "fill"))
    with pytest.raises(UnknownNameError, match="fill"):
        DiskFull(FaultSpec("disk", str(tmp_path), "shred"))
