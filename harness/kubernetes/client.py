"""A small Kubernetes API client over httpx: what cutover needs, from any kubeconfig.

It reads the kubeconfig's current (or named) context: the server, its CA, and a client
certificate, a bearer token or an ``exec`` credential plugin (the way EKS, GKE and AKS
kubeconfigs authenticate). Resources are addressed by ``apiVersion`` and ``kind``; their
paths come from the server's own discovery, so CRDs (Istio's VirtualService) work like
built-in kinds. Objects are written with server-side apply.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.errors import ConfigError, CutoverError

FIELD_MANAGER = "cutover"


class KubeApiError(CutoverError):
    """The API server refused a request; carries its status and message."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"{method} {path}: HTTP {status}: {message}")


@dataclass(frozen=True)
class KubeCredentials:
    """How to reach and authenticate to one cluster."""

    server: str
    ca_data: bytes | None
    cert_data: bytes | None
    key_data: bytes | None
    token: str
    insecure: bool
    context: str


def _data(entry: dict[str, Any], key: str, base: Path) -> bytes | None:
    """``key-data`` (base64) or ``key`` (a file, relative to the kubeconfig)."""
    if entry.get(f"{key}-data"):
        return base64.b64decode(entry[f"{key}-data"])
    if entry.get(key):
        return (base / str(entry[key])).read_bytes()
    return None


def load_kubeconfig(path: Path, context: str = "") -> KubeCredentials:
    """The credentials of ``context`` (default: the current context) in ``path``.

    Raises:
        ConfigError: The file is missing or does not name a usable cluster and user.
    """
    path = Path(path).expanduser()
    fix = f"pass a kubeconfig that `kubectl --kubeconfig {path} get ns` accepts"
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"kubeconfig {path} cannot be read ({exc}); {fix}") from exc
    name = context or config.get("current-context", "")

    def named(kind: str, wanted: str) -> dict[str, Any]:
        for entry in config.get(f"{kind}s") or []:
            if entry.get("name") == wanted:
                return dict(entry.get(kind) or {})
        raise ConfigError(f"kubeconfig {path}: no {kind} {wanted!r}; {fix}")

    ctx = named("context", name)
    cluster, user = named("cluster", ctx.get("cluster", "")), named("user", ctx.get("user", ""))
    base = path.parent
    token = str(user.get("token", ""))
    if not token and user.get("tokenFile"):
        token = (base / user["tokenFile"]).read_text().strip()
    cert, key = _data(user, "client-certificate", base), _data(user, "client-key", base)
    if user.get("exec") and not (token or cert):
        token, cert, key = _exec_credential(user["exec"], path)
    if not cluster.get("server"):
        raise ConfigError(f"kubeconfig {path}: cluster of context {name!r} has no server; {fix}")
    return KubeCredentials(server=str(cluster["server"]).rstrip("/"),
                           ca_data=_data(cluster, "certificate-authority", base),
                           cert_data=cert, key_data=key, token=token,
                           insecure=bool(cluster.get("insecure-skip-tls-verify")),
                           context=name)


def _exec_credential(spec: dict[str, Any],
                     path: Path) -> tuple[str, bytes | None, bytes | None]:
    """Run an exec credential plugin (client.authentication.k8s.io) for a token or a cert."""
    env = {**os.environ, **{e["name"]: e["value"] for e in spec.get("env") or []}}
    command = [str(spec.get("command", "")), *map(str, spec.get("args") or [])]
    if not shutil.which(command[0]):
        raise ConfigError(f"kubeconfig {path}: its credential plugin {command[0]!r} is not on "
                          "PATH; install it (the cloud's CLI) or use a kubeconfig with a token")
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60,
                            check=False)
    if result.returncode != 0:
        raise ConfigError(f"kubeconfig {path}: credential plugin {command[0]} failed "
                          f"({result.returncode}): {result.stderr.strip()[-500:]}")
    try:
        status = json.loads(result.stdout).get("status", {})
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"kubeconfig {path}: credential plugin {command[0]} printed no "
                          f"ExecCredential JSON ({exc})") from exc
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    return (str(status.get("token", "")), cert.encode() if cert else None,
            key.encode() if key else None)


class KubeClient:
    """Requests to one cluster. Close it (or use ``with``) to remove its key files."""

    def __init__(self, kubeconfig: Path, *, context: str = "", timeout_s: float = 15) -> None:
        self.kubeconfig, self.context, self.timeout_s = Path(kubeconfig), context, timeout_s
        self._dir = tempfile.mkdtemp(prefix="cutover-kube-")  # 0700: holds the client key
        self._resources: dict[str, dict[str, tuple[str, bool]]] = {}
        try:
            self._connect()
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    def _connect(self) -> None:
        """(Re)read the credentials (an exec plugin runs again) and open the HTTP client."""
        self.credentials = creds = load_kubeconfig(self.kubeconfig, self.context)
        tls: ssl.SSLContext | bool = True
        if creds.server.startswith("https"):
            tls = ssl.create_default_context()
            if creds.insecure:
                tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
            elif creds.ca_data:
                tls.load_verify_locations(cadata=creds.ca_data.decode())
            if creds.cert_data and creds.key_data:
                cert, key = Path(self._dir, "client.crt"), Path(self._dir, "client.key")
                cert.write_bytes(creds.cert_data)
                key.write_bytes(creds.key_data)
                tls.load_cert_chain(str(cert), str(key))
        headers = {"Authorization": f"Bearer {creds.token}"} if creds.token else {}
        self.http = httpx.Client(base_url=creds.server, verify=tls, headers=headers,
                                 timeout=self.timeout_s)
        self._exec = bool(_user_of(self.kubeconfig, creds.context).get("exec"))

    @property
    def server(self) -> str:
        return self.credentials.server

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; any answer but 2xx raises :class:`KubeApiError`."""
        try:
            response = self.http.request(method, path, **kwargs)
            if response.status_code == 401 and self._exec:
                # an exec plugin's token expired (EKS's last 15 minutes): fetch a new one
                self.http.close()
                self._connect()
                response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise KubeApiError(method, path, 0, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise KubeApiError(method, path, response.status_code, str(message)[:1000])
        return response

    def path(self, api_version: str, kind: str, *, namespace: str = "",
             name: str = "") -> str:
        """The REST path of ``kind`` objects (one object when ``name`` is given)."""
        plural, namespaced = self._resource(api_version, kind)
        root = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        scope = f"/namespaces/{namespace}" if namespaced and namespace else ""
        return f"{root}{scope}/{plural}" + (f"/{name}" if name else "")

    def _resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        if api_version not in self._resources:
            root = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            found = self.request("GET", root).json().get("resources", [])
            self._resources[api_version] = {r["kind"]: (r["name"], bool(r["namespaced"]))
                                            for r in found if "/" not in r["name"]}
        kinds = self._resources[api_version]
        if kind not in kinds:
            self._resources.pop(api_version)  # a CRD may be established later: ask again
            raise KubeApiError("GET", api_version, 404,
                               f"the server has no kind {kind} in {api_version} "
                               f"(it serves {', '.join(sorted(kinds)) or 'nothing'})")
        return kinds[kind]

    def get(self, api_version: str, kind: str, name: str,
            namespace: str = "") -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        try:
            return dict(self.request("GET", self.path(api_version, kind, namespace=namespace,
                                                      name=name)).json())
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, api_version: str, kind: str, namespace: str = "",
             labels: str = "") -> list[dict[str, Any]]:
        params = {"labelSelector": labels} if labels else {}
        body = self.request("GET", self.path(api_version, kind, namespace=namespace),
                            params=params).json()
        return list(body.get("items", []))

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or update ``obj`` by server-side apply (cutover owns the fields it sets)."""
        meta = obj["metadata"]
        path = self.path(obj["apiVersion"], obj["kind"], namespace=meta.get("namespace", ""),
                         name=meta["name"])
        response = self.request(
            "PATCH", path, content=json.dumps(obj),
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
            headers={"Content-Type": "application/apply-patch+yaml"})
        return dict(response.json())

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> bool:
        """Delete the object; False when it did not exist."""
        try:
            self.request("DELETE", self.path(api_version, kind, namespace=namespace,
                                             name=name))
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def watch(self, api_version: str, kind: str, namespace: str = "", *,
              field_selector: str = "", resource_version: str = "",
              timeout_s: int = 30) -> Iterator[dict[str, Any]]:
        """Watch events (``{"type": ..., "object": ...}``) until the server ends the watch."""
        params = {"watch": "1", "timeoutSeconds": str(timeout_s),
                  "allowWatchBookmarks": "true"}
        if field_selector:
            params["fieldSelector"] = field_selector
        if resource_version:
            params["resourceVersion"] = resource_version
        path = self.path(api_version, kind, namespace=namespace)
        with self.http.stream("GET", path, params=params,
                              timeout=httpx.Timeout(10, read=timeout_s + 10)) as response:
            if response.status_code >= 300:
                response.read()
                raise KubeApiError("GET", path, response.status_code, response.text[:500])
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        self.http.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _user_of(path: Path, context: str) -> dict[str, Any]:
    """The ``user`` entry of ``context`` in the kubeconfig ({} when absent)."""
    config = yaml.safe_load(path.expanduser().read_text()) or {}
    ctx = next((c.get("context") or {} for c in config.get("contexts") or []
                if c.get("name") == context), {})
    return next((u.get("user") or {} for u in config.get("users") or []
                 if u.get("name") == ctx.get("user")), {})


def load_documents(text: str) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a manifest."""
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict) and doc]
