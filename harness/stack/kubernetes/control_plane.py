"""A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-
manager, kube-scheduler, and kwok for the node and pod status no kubelet can give here.

Everything is started at once (each component retries its API server until it answers);
readiness waits for each in turn, then registers one kwok node and applies the Istio CRDs
server-side, so a chart with a VirtualService installs as it would on a mesh. Pods are
scheduled and reported Running by kwok; their containers never run. The endpoint is a
kubeconfig with the admin credentials embedded.
"""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.kubernetes.client import KubeApiError, KubeClient, load_documents
from harness.stack.endpoint import KubernetesEndpoint
from harness.stack.executor import RunningProcess
from harness.stack.kubernetes.pki import Pki, make_pki
from harness.stack.kubernetes.toolchain import KubeToolchain
from harness.stack.ports import HOST, allocate_port
from harness.stack.process import peak_rss_bytes
from harness.stack.service import ReadinessProbe, Service

SERVICE_CIDR = "10.96.0.0/16"
NODE_NAME = "cutover-node-0"
KWOK_NODE = {
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": NODE_NAME, "annotations": {"kwok.x-k8s.io/node": "fake"},
                 "labels": {"kubernetes.io/hostname": NODE_NAME, "type": "kwok"}},
    "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "500"},
               "capacity": {"cpu": "32", "memory": "256Gi", "pods": "500"}},
}


def kubeconfig_text(server: str, pki: Pki, *, name: str = "cutover") -> str:
    """A kubeconfig for the admin user with its certificates embedded."""
    import base64

    def b64(file: str) -> str:
        return base64.b64encode(pki.file(file).read_bytes()).decode()

    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": {"server": server,
                                                "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": f"{name}-admin", "user": {
            "client-certificate-data": b64("admin.crt"),
            "client-key-data": b64("admin.key")}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin"}}],
    }, sort_keys=False)


class KubernetesService(Service):
    """The control plane of one run, from the toolchain built by ``cutover install
    --kubernetes``."""

    name = "kubernetes"

    def __init__(self, *, run_dir: Path, toolchain: KubeToolchain) -> None:
        self.toolchain = toolchain
        self.home = run_dir / "kubernetes"
        self.logs = run_dir / "logs"
        self.ports: dict[str, int] = {}
        self.processes_: dict[str, RunningProcess] = {}
        self.timings_s: dict[str, float] = {}

    @property
    def kubeconfig(self) -> Path:
        return self.home / "admin.kubeconfig"

    @property
    def server(self) -> str:
        return f"https://{HOST}:{self.ports.get('apiserver', 0)}"

    def start(self) -> None:
        for key in ("etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler",
                    "kwok"):
            self.ports[key] = allocate_port(purpose=f"kubernetes {key.replace('_', ' ')}")
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)  # keys, the admin kubeconfig, etcd's data
        pki = make_pki(self.home / "pki")
        fd = os.open(self.kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(kubeconfig_text(self.server, pki))
        self._spawn("etcd", [str(self.toolchain.etcd), *self._etcd_flags()])
        self._spawn("kube-apiserver", self._kube("kube-apiserver", self._apiserver_flags(pki)))
        common = [f"--kubeconfig={self.kubeconfig}",
                  f"--authentication-kubeconfig={self.kubeconfig}",
                  f"--authorization-kubeconfig={self.kubeconfig}",
                  f"--bind-address={HOST}", "--leader-elect=false"]
        self._spawn("kube-controller-manager", self._kube("kube-controller-manager", [
            *common, f"--secure-port={self.ports['controller_manager']}",
            f"--service-account-private-key-file={pki.file('sa.key')}",
            f"--root-ca-file={pki.file('ca.crt')}",
            f"--cluster-signing-cert-file={pki.file('ca.crt')}",
            f"--cluster-signing-key-file={pki.file('ca.key')}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--use-service-account-credentials=true"]))
        self._spawn("kube-scheduler", self._kube("kube-scheduler", [
            *common, f"--secure-port={self.ports['scheduler']}"]))
        self._spawn("kwok", [str(self.toolchain.kwok), f"--kubeconfig={self.kubeconfig}",
                             "-c", str(self.toolchain.kwok_stages),
                             "--manage-all-nodes=false",
                             "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                             f"--server-address={HOST}:{self.ports['kwok']}",
                             "--node-lease-duration-seconds=40"])

    def _kube(self, command: str, flags: list[str]) -> list[str]:
        return [str(self.toolchain.kube), command, *flags]

    def _etcd_flags(self) -> list[str]:
        client, peer = (f"http://{HOST}:{self.ports[k]}" for k in ("etcd", "etcd_peer"))
        return ["--name=cutover", f"--data-dir={self.home / 'etcd'}", "--unsafe-no-fsync",
                f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=cutover={peer}", "--log-level=warn"]

    def _apiserver_flags(self, pki: Pki) -> list[str]:
        return [f"--bind-address={HOST}", f"--advertise-address={HOST}",
                f"--secure-port={self.ports['apiserver']}",
                f"--etcd-servers=http://{HOST}:{self.ports['etcd']}",
                f"--tls-cert-file={pki.file('apiserver.crt')}",
                f"--tls-private-key-file={pki.file('apiserver.key')}",
                f"--client-ca-file={pki.file('ca.crt')}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.file('sa.pub')}",
                f"--service-account-signing-key-file={pki.file('sa.key')}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                # one API server on loopback: nothing to reconcile in the kubernetes Service
                "--endpoint-reconciler-type=none"]

    def _spawn(self, name: str, argv: list[str]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.processes_[name] = self.executor.spawn(
            name, argv, log_path=self.logs / f"{name}.log", cwd=self.home)

    def wait_ready(self, timeout_s: float) -> None:
        started = time.monotonic()
        deadline = started + timeout_s
        admin = (str(self.home / "pki" / "admin.crt"), str(self.home / "pki" / "admin.key"))
        ca = str(self.home / "pki" / "ca.crt")
        probes = [
            ("etcd", lambda: _etcd_healthy(f"http://{HOST}:{self.ports['etcd']}")),
            ("kube-apiserver", lambda: _https_ok(f"{self.server}/readyz", ca, admin)),
            ("kube-controller-manager", lambda: _https_ok(
                f"https://{HOST}:{self.ports['controller_manager']}/healthz", None, None)),
            ("kube-scheduler", lambda: _https_ok(
                f"https://{HOST}:{self.ports['scheduler']}/healthz", None, None)),
        ]
        for name, check in probes:
            ReadinessProbe(f"{self.name} {name}", check, self._died,
                           log_path=self.logs / f"{name}.log", interval_s=0.1,
                           hint=f"see {self.logs / (name + '.log')}"
                           ).wait(max(1.0, deadline - time.monotonic()))
            self.timings_s[name] = round(time.monotonic() - started, 2)
        with KubeClient(self.kubeconfig) as client:
            client.apply(KWOK_NODE)
            crds = load_documents(self.toolchain.istio_crds.read_text())
            with ThreadPoolExecutor(max_workers=4) as pool:  # 15 CRDs, ~1 MB of schemas
                list(pool.map(client.apply, crds))
            self.timings_s["crds_applied"] = round(time.monotonic() - started, 2)
            names = [c["metadata"]["name"] for c in crds]
            ReadinessProbe(f"{self.name} node and CRDs", lambda: _settled(client, names),
                           self._died, log_path=self.logs / "kwok.log", interval_s=0.1
                           ).wait(max(1.0, deadline - time.monotonic()))
        self.timings_s["ready"] = round(time.monotonic() - started, 2)

    def _died(self) -> str | None:
        for name, process in self.processes_.items():
            if not process.alive():
                return f"{name} exited with code {process.exit_code()}"
        return None

    def stop(self) -> None:
        for name in ("kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver",
                     "etcd"):
            if name in self.processes_:
                self.processes_[name].stop()

    def clean(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def endpoint(self) -> KubernetesEndpoint:
        return KubernetesEndpoint(self.name, kubeconfig=str(self.kubeconfig),
                                  server=self.server, context="cutover")

    def collect_logs(self, dest: Path) -> list[Path]:
        return [p.log_path for p in self.processes_.values() if p.log_path.exists()]

    def running(self) -> dict[str, RunningProcess]:
        return dict(self.processes_)

    def stats(self) -> dict[str, Any]:
        per = {f"peak_rss_bytes_{n}": peak_rss_bytes(p.pid)
               for n, p in self.processes_.items()}
        return {**per, "peak_rss_bytes": sum(per.values()), "timings_s": self.timings_s}


def _etcd_healthy(url: str) -> str | None:
    try:
        body = httpx.get(f"{url}/health", timeout=2).json()
    except (httpx.HTTPError, ValueError) as exc:
        return f"etcd not answering ({type(exc).__name__})"
    return None if body.get("health") == "true" else f"etcd health: {body}"


def _https_ok(url: str, ca: str | None, cert: tuple[str, str] | None) -> str | None:
    import ssl

    context = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
    if cert:
        context.load_cert_chain(*cert)
    try:
        response = httpx.get(url, verify=context, timeout=2)
    except httpx.HTTPError as exc:
        return f"{url} not answering ({type(exc).__name__})"
    return None if response.status_code == 200 else \
        f"{url}: HTTP {response.status_code} {response.text[:200]}"


def _settled(client: KubeClient, crds: list[str]) -> str | None:
    """None once the kwok node is Ready and every CRD is Established."""
    try:
        node = client.get("v1", "Node", NODE_NAME) or {}
        ready = [c for c in node.get("status", {}).get("conditions", [])
                 if c.get("type") == "Ready" and c.get("status") == "True"]
        if not ready:
            return f"node {NODE_NAME} not Ready yet"
        for name in crds:
            crd = client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) or {}
            conditions = (crd.get("status") or {}).get("conditions") or []
            if not any(c.get("type") == "Established" and c.get("status") == "True"
                       for c in conditions):
                return f"CRD {name} not Established yet"
    except KubeApiError as exc:
        return str(exc)
    return None
