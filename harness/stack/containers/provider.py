"""ContainersProvider: every service of the stack in a container, same endpoints.

The services are the local provider's: same configuration files, same command lines,
same readiness probes, same ``Endpoint`` values, so every scenario runs unchanged on
either provider. Only where the commands run differs: each service gets a
:class:`ContainerExecutor` for its image. The Iceberg catalog has no process of its own
(it lives in PostgreSQL), so it needs no container.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import PrerequisiteError
from harness.stack.containers.executor import LABEL_RUN, ContainerExecutor
from harness.stack.containers.images import image_for
from harness.stack.local.provider import LocalProvider
from harness.stack.service import Service

PG_BIN_IN_IMAGE = Path("/usr/lib/postgresql/15/bin")  # Debian's and the official image's
NO_CONTAINER = {"iceberg", "toxiproxy"}  # host processes: a catalog file, a Go binary
DAEMON_FIX = ("start the Docker daemon: scripts/docker-daemon (as root: apt-get install "
              "docker.io, then dockerd --iptables=false --bridge=none), or set DOCKER_HOST")


def docker_client() -> Any:
    """A client of a running Docker daemon.

    Raises:
        PrerequisiteError: No daemon answers; the message says how to start one.
    """
    import docker
    import docker.errors

    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        problem = _unix_socket_problem(host.removeprefix("unix://"))
        if problem:  # asked here: docker-py leaks its socket when the connect fails
            raise PrerequisiteError(f"the containers provider needs a Docker daemon, and none "
                                    f"answers at {host} ({problem}); {DAEMON_FIX}")
    client = None
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except docker.errors.DockerException as exc:
        if client is not None:
            client.close()
        raise PrerequisiteError(f"the containers provider needs a Docker daemon, and none "
                                f"answers ({exc}); {DAEMON_FIX}") from None
    return client


def _unix_socket_problem(path: str) -> str | None:
    """Why nothing accepts connections on the unix socket ``path``, or None."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect(path)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


class ContainersProvider(LocalProvider):
    """Runs each service's processes in containers on the host network."""

    name: ClassVar[str] = "containers"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def image(self, service: str) -> str:
        overrides = {name: self.config[f"image_{name}"] for name in self.service_names()
                     if name not in NO_CONTAINER and self.config[f"image_{name}"]}
        return image_for(service, column=self.config["images"], overrides=overrides)

    def check(self, names: list[str]) -> None:
        """The daemon runs and every image is here; nothing is ever pulled."""
        import docker.errors

        for name in names:
            self.require_known(name)
        missing = []
        for name in names:
            if name in NO_CONTAINER:
                continue
            image = self.image(name)
            try:
                self.client.images.get(image)
            except docker.errors.ImageNotFound:
                missing.append(f"{image} (for {name})")
        if missing:
            raise PrerequisiteError(
                f"images not on this machine: {', '.join(missing)}. cutover never pulls; "
                "build the local images with scripts/build-images and select them with "
                "--cutover-images=local (CUTOVER_IMAGES=local), load or pull the images "
                "yourself, or point --cutover-image-<service> at one you have")

    def close(self) -> None:
        """Remove any container of this run still there (none, unless a stop failed)."""
        if self._client is not None:
            try:
                left = remove_run_containers(self.run_dir.name, client=self._client)
                if left:
                    self.progress(f"removed leftover containers: {', '.join(left)}")
            finally:
                self._client.close()
                self._client = None

    def place(self, service: Service) -> Service:
        if service.name in NO_CONTAINER:
            return service
        cache = Path(self.config["cache_dir"]).resolve()
        executor = ContainerExecutor(
            image=self.image(service.name), service=service.name,
            run_id=self.run_dir.name, client=self.client,
            mounts={self.run_dir.resolve(): "rw", cache: "ro"})
        service.executor = executor
        return service

    def java(self) -> str:
        return "java"  # on the image's PATH

    def binary(self, name: str) -> str:
        return name  # on the image's PATH

    def pg_bin_path(self) -> Path | None:
        return PG_BIN_IN_IMAGE


def run_containers(run_id: str, *, client: Any) -> list[Any]:
    """The containers of ``run_id``, running or not (one being auto-removed is skipped)."""
    import docker.errors

    found = []
    for summary in client.api.containers(all=True, filters={"label": f"{LABEL_RUN}={run_id}"}):
        try:
            found.append(client.containers.get(summary["Id"]))
        except docker.errors.NotFound:
            continue  # removed between the listing and the lookup
    return found


def remove_run_containers(run_id: str, *, client: Any) -> list[str]:
    """Remove every container of ``run_id``; the names of those removed."""
    import docker.errors

    removed = []
    for container in run_containers(run_id, client=client):
        try:
            container.remove(force=True)
            removed.append(container.name)
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):  # auto_remove got there first
                raise
    return removed
