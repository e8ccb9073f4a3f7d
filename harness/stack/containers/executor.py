"""Commands in containers, with testcontainers: host networking, same paths, own cleanup.

Every container this module starts:
* uses the host's network namespace, so services listen on 127.0.0.1 exactly as local
  processes do, and no traffic leaves loopback (testcontainers' port mappings are
  cleared: Docker refuses them with host networking);
* sees the run directory (read-write) and the artifact cache (read-only) at the same
  paths as the host, so command lines are the local provider's, unchanged;
* is labelled with its run, and removed by Docker itself once its command exits
  (``auto_remove``), so a crashed harness leaves no container once the janitor stops it.

Ryuk (testcontainers' reaper) is not used: its image is not available here, and the
labels plus ``auto_remove`` make it unnecessary. Images are never pulled: the provider
checks that each one exists locally before anything starts.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import ServiceStartError

LABEL_RUN = "cutover.run"
LABEL_SERVICE = "cutover.service"


def configure_testcontainers() -> None:
    """No Ryuk; mapped ports reached on 127.0.0.1 (the machine looks like a container)."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    testcontainers_config.ryuk_disabled = True
    testcontainers_config.connection_mode_override = ConnectionMode.docker_host
    testcontainers_config.tc_host_override = "127.0.0.1"


class ContainerProcess:
    """A long-running command in a container (what ``ManagedProcess`` is locally)."""

    def __init__(self, name: str, container: Any, log_path: Path, stop_signal: int) -> None:
        self.name, self.log_path, self.stop_signal = name, log_path, stop_signal
        self.container = container  # testcontainers DockerContainer
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        self.container_id: str = wrapped.id
        self._pid = int(wrapped.attrs["State"]["Pid"])
        self._exit_code: int | None = None
        self._exited = threading.Event()
        self._logs = threading.Thread(target=self._follow_logs, args=(wrapped,), daemon=True,
                                      name=f"logs-{name}")
        self._waiter = threading.Thread(target=self._wait, args=(wrapped,), daemon=True,
                                        name=f"wait-{name}")
        self._logs.start()
        self._waiter.start()

    @property
    def pid(self) -> int:
        """The container's main process as the host sees it (the janitor can stop it)."""
        return self._pid

    def alive(self) -> bool:
        return not self._exited.is_set()

    def exit_code(self) -> int | None:
        return self._exit_code

    def signal(self, signum: int) -> None:
        """Signal the container's command (what ``docker kill --signal`` does)."""
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            self.container.get_wrapped_container().kill(signal=int(signum))

    def stop(self, timeout_s: float = 20.0) -> None:
        """Signal the command, wait for it, then kill; Docker removes the container."""
        import docker.errors

        wrapped = self.container.get_wrapped_container()
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            wrapped.kill(signal=int(self.stop_signal))
        if not self._exited.wait(timeout_s):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                wrapped.kill(signal=int(signal.SIGKILL))
            self._exited.wait(10)
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            wrapped.remove(force=True)  # normally gone already (auto_remove)
        self._waiter.join(timeout=10)

    def _follow_logs(self, wrapped: Any) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log, contextlib.suppress(Exception):
            for chunk in wrapped.logs(stream=True, follow=True):
                log.write(chunk)
                log.flush()

    def _wait(self, wrapped: Any) -> None:
        try:
            self._exit_code = int(wrapped.wait()["StatusCode"])
        except Exception:
            self._exit_code = -1
        finally:
            self._exited.set()


class ContainerExecutor:
    """Runs a service's commands in containers of ``image``."""

    def __init__(self, *, image: str, service: str, run_id: str, mounts: dict[Path, str],
                 client: Any) -> None:
        """``mounts``: host path → "ro" or "rw", mounted at the same path."""
        self.image, self.service, self.run_id = image, service, run_id
        self.mounts, self.client = mounts, client
        self._count = 0

    def _kwargs(self, *, env: dict[str, str] | None, cwd: Path | None, user: int | None,
                group: int | None) -> dict[str, Any]:
        self._count += 1
        return {
            "network_mode": "host",
            "auto_remove": True,
            "user": f"{user if user is not None else 0}:{group if group is not None else 0}",
            "working_dir": str(cwd) if cwd else None,
            "labels": {LABEL_RUN: self.run_id, LABEL_SERVICE: self.service},
            "environment": env or {},
            "volumes": {str(path): {"bind": str(path), "mode": mode}
                        for path, mode in self.mounts.items()},
        }

    def spawn(self, name: str, argv: Sequence[str], *, log_path: Path,
              env: dict[str, str] | None = None, cwd: Path | None = None,
              user: int | None = None, group: int | None = None,
              stop_signal: int = signal.SIGTERM) -> ContainerProcess:
        from testcontainers.core.container import DockerContainer

        configure_testcontainers()
        container = DockerContainer(self.image, docker_client_kw={"timeout": 60})
        container.with_command(list(argv)).with_name(f"cutover-{self.run_id}-{name}")
        kwargs = self._kwargs(env=env, cwd=cwd, user=user, group=group)
        container.env = kwargs.pop("environment")
        for host, mount in kwargs.pop("volumes").items():
            container.with_volume_mapping(host, mount["bind"], mount["mode"])
        container.ports.clear()  # Docker refuses port mappings with host networking
        container.with_kwargs(**kwargs)  # replaces all kwargs: everything in one call
        try:
            container.start()
        except Exception as exc:
            raise ServiceStartError(self.service, f"container of {self.image} did not start: "
                                    f"{exc}") from exc
        return ContainerProcess(name, container, log_path, stop_signal)

    def run(self, argv: Sequence[str], *, timeout: float, env: dict[str, str] | None = None,
            cwd: Path | None = None, user: int | None = None,
            group: int | None = None) -> subprocess.CompletedProcess[str]:
        kwargs = self._kwargs(env=env, cwd=cwd, user=user, group=group)
        kwargs["auto_remove"] = False  # keep it until its output is read
        container = self.client.containers.run(self.image, list(argv), detach=True, **kwargs)
        try:
            deadline = time.monotonic() + timeout
            status = container.wait(timeout=max(1.0, deadline - time.monotonic()))
            out = container.logs(stdout=True, stderr=False).decode(errors="replace")
            err = container.logs(stdout=False, stderr=True).decode(errors="replace")
            return subprocess.CompletedProcess(list(argv), int(status["StatusCode"]), out, err)
        finally:
            container.remove(force=True)
