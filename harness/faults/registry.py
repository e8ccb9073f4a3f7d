"""Fault kinds by name: the one place a new kind is registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, UnknownNameError
from harness.faults.base import Fault, FaultSpec
from harness.faults.data import data_fault
from harness.faults.disk import DiskFull
from harness.faults.network import NetworkFault
from harness.faults.process import ProcessFault, ProcessHost
from harness.faults.toxiproxy import ToxiproxyClient


@dataclass(frozen=True)
class FaultContext:
    """What faults act on: the stack's processes, its Kafka, a folder for their files."""

    host: ProcessHost | None
    bootstrap_servers: str
    workdir: Path
    toxiproxy_url: str = ""


def _process(spec: FaultSpec, context: FaultContext) -> Fault:
    if context.host is None:
        raise ConfigError(f"fault {spec.label}: process faults need a stack this run "
                          "started; an external stack's processes are not ours to kill")
    return ProcessFault(spec, context.host)


def _data(spec: FaultSpec, context: FaultContext) -> Fault:
    return data_fault(spec, bootstrap_servers=context.bootstrap_servers,
                      workdir=context.workdir)


def _network(spec: FaultSpec, context: FaultContext) -> Fault:
    if not context.toxiproxy_url:
        raise ConfigError(f"fault {spec.label}: network faults need Toxiproxy in the stack; "
                          "run with --cutover-network-faults (CUTOVER_NETWORK_FAULTS=1) "
                          "after `cutover install --toxiproxy`")
    return NetworkFault(spec, ToxiproxyClient(context.toxiproxy_url))


def _disk(spec: FaultSpec, context: FaultContext) -> Fault:
    return DiskFull(spec)


FAULT_KINDS: dict[str, Callable[[FaultSpec, FaultContext], Fault]] = {
    "process": _process,
    "data": _data,
    "disk": _disk,
    "network": _network,
}


def build_fault(spec: FaultSpec, context: FaultContext) -> Fault:
    """The fault ``spec`` describes, or UnknownNameError listing the known kinds."""
    if spec.kind not in FAULT_KINDS:
        raise UnknownNameError("fault kind", spec.kind, list(FAULT_KINDS), option=False)
    return FAULT_KINDS[spec.kind](spec, context)
