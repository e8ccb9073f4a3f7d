"""Stack: asks a Provider for services, starts what is required, tears down in order."""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.errors import CutoverError
from harness.stack.endpoint import Endpoint
from harness.stack.process import ManagedProcess
from harness.stack.providers import provider_class
from harness.stack.rundir import StackState, janitor, new_run_dir
from harness.stack.service import ProcessRecord, Service

log = logging.getLogger("cutover.stack")

Progress = Callable[[str], None]


class Stack:
    """The services of one run. Services start on first :meth:`require`, once.

    Use as a context manager, or call :meth:`close`. A detached stack (`cutover up`,
    ``--cutover-keep``) is left running and recorded so `cutover down` can stop it.
    """

    def __init__(self, config: Config, *, progress: Progress | None = None) -> None:
        self.config = config
        self.progress: Progress = progress or (lambda msg: log.info("%s", msg))
        self.run_root = Path(config["run_root"])
        janitor(self.run_root)
        self.run_dir = new_run_dir(self.run_root)
        self.provider = provider_class(config["provider"])(config, self.run_dir, self.progress)
        self.services: dict[str, Service] = {}
        self.adopted: dict[str, ManagedProcess] = {}
        self.timings_s: dict[str, float] = {}
        self.detached = False
        self.closed = False
        self.state = StackState(run_id=self.run_dir.name, run_dir=str(self.run_dir),
                                provider=self.provider.name, owner_pid=os.getpid())
        self.state.write()
        atexit.register(self.close)

    def require(self, *names: str) -> dict[str, Endpoint]:
        """Start the named services that are not running yet; return their endpoints."""
        missing = [n for n in self._with_dependencies(names) if n not in self.services]
        if missing:
            self.provider.check(missing)
            self._start(missing)
        return {n: self.services[n].endpoint() for n in names}

    def _with_dependencies(self, names: tuple[str, ...]) -> list[str]:
        ordered: list[str] = []

        def visit(name: str) -> None:
            for dependency in self.provider.dependencies(name):
                visit(dependency)
            if name not in ordered:
                ordered.append(name)

        for name in names:
            visit(name)
        return ordered

    def _start(self, names: list[str]) -> None:
        """Start each service as soon as the services it depends on are ready (no batch
        waits for its slowest member); readiness is awaited in parallel. When one fails,
        every service this call started is torn down, in reverse start order, and the
        first error is raised: services that ran before the call are left alone."""
        waiting: dict[str, list[str]] = {
            n: [d for d in self.provider.dependencies(n) if d in names] for n in names}
        started: list[str] = []
        pool = ThreadPoolExecutor(max_workers=len(names))
        try:
            pending: dict[Future[None], str] = {}
            while waiting or pending:
                for name in [n for n, deps in waiting.items() if not deps]:
                    del waiting[name]
                    self.progress(f"{name}: starting")
                    begun = time.monotonic()
                    service = self.provider.service(name, self.endpoints())
                    self.services[name] = service
                    started.append(name)
                    service.start()
                    self.record_state()
                    pending[pool.submit(self._wait, name, begun)] = name
                if not pending:  # only a dependency cycle leaves nothing to wait on
                    raise CutoverError(f"services {sorted(waiting)} wait on each other")
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    ready = pending.pop(future)
                    future.result()  # a failed wait raises here
                    for deps in waiting.values():
                        if ready in deps:
                            deps.remove(ready)
        except BaseException:
            self._teardown([n for n in started if n in self.services], failed=True)
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _wait(self, name: str, started: float) -> None:
        self.services[name].wait_ready(float(self.config["start_timeout_s"]))
        self.timings_s[name] = time.monotonic() - started
        self.progress(f"{name}: ready in {self.timings_s[name]:.1f}s at "
                      f"{self.services[name].endpoint().address}")

    def record_state(self) -> None:
        """Write the services and their processes (pids change when a fault restarts one)."""
        self.state.services = {
            name: {"endpoint": _safe_endpoint(service),
                   "processes": [asdict(p) for p in service.processes()]}
            for name, service in self.services.items()
        }
        for name, process in self.adopted.items():  # recorded last: stopped first
            self.state.services[f"adopted:{name}"] = {"endpoint": {}, "processes": [asdict(
                ProcessRecord(name, process.pid, int(process.stop_signal),
                              str(process.log_path)))]}
        self.state.write()

    def adopt_process(self, name: str, process: ManagedProcess) -> None:
        """Record a process a run started on this stack (a service version), so that the
        janitor and `cutover down` stop it if the run dies without stopping it."""
        self.adopted[name] = process
        self.record_state()

    def release_process(self, name: str) -> None:
        """The run stopped ``name`` itself; forget it."""
        if self.adopted.pop(name, None) is not None:
            self.record_state()

    def endpoint(self, name: str) -> Endpoint:
        return self.require(name)[name]

    def endpoints(self) -> dict[str, Endpoint]:
        return {name: service.endpoint() for name, service in self.services.items()}

    def detach(self) -> StackState:
        """Leave the services running after this process exits; `cutover down` stops them."""
        self.detached = True
        self.state.kept = True
        self.record_state()
        return self.state

    def close(self) -> None:
        """Tear down unless detached: stop → collect logs → clean, reverse start order."""
        if self.closed or self.detached:
            return
        self.closed = True
        for name, process in list(self.adopted.items()):
            process.stop()
            self.adopted.pop(name)
        self._teardown(list(self.services), failed=False)
        try:
            self.provider.close()
        except Exception as exc:
            log.warning("provider %s: close failed: %s", self.provider.name, exc)

    def _teardown(self, names: list[str], *, failed: bool) -> None:
        order = list(reversed(names))
        for step in ("stop", "collect_logs", "clean"):
            for name in order:
                service = self.services[name]
                try:
                    if step == "collect_logs":
                        service.collect_logs(self.run_dir / "logs")
                    else:
                        getattr(service, step)()
                except Exception as exc:  # best effort: every step runs, each is logged
                    log.warning("%s: %s failed during teardown: %s", name, step, exc)
        for name in names:
            self.services.pop(name, None)
        self.record_state()
        if failed:
            self.progress(f"logs kept in {self.run_dir / 'logs'}")

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _safe_endpoint(service: Service) -> dict[str, Any]:
    try:
        return service.endpoint().to_dict()
    except CutoverError:
        return {}
