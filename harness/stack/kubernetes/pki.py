"""The control plane's certificates and keys, made with ``openssl`` for one run.

A CA; the API server's serving certificate for 127.0.0.1 and the in-cluster names; an
admin client certificate in ``system:masters`` (used by cutover, the controller manager,
the scheduler and kwok: RBAC is on, that group is bound to cluster-admin); and the
service-account signing key pair.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import PrerequisiteError

SERVER_NAMES = ("IP:127.0.0.1", "IP:10.96.0.1", "DNS:localhost", "DNS:kubernetes",
                "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                "DNS:kubernetes.default.svc.cluster.local")


@dataclass(frozen=True)
class Pki:
    """Paths of the files :func:`make_pki` writes."""

    root: Path

    def file(self, name: str) -> Path:
        """``ca.crt``, ``ca.key``, ``apiserver.crt``, ``admin.key``, ``sa.pub``, ..."""
        return self.root / name


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=60, check=False)
    if result.returncode != 0:
        raise PrerequisiteError(f"openssl {args[0]} failed: {result.stderr.strip()[-400:]}")


def _key(pki: Path, name: str) -> None:
    """An ECDSA P-256 key: made in milliseconds where RSA 2048 takes a few hundred."""
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", f"{name}.key", cwd=pki)


def _signed(pki: Path, name: str, subject: str, extensions: str) -> None:
    _key(pki, name)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr",
             cwd=pki)
    (pki / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "30", "-sha256", "-extfile", f"{name}.ext",
             "-out", f"{name}.crt", cwd=pki)


def make_pki(root: Path) -> Pki:
    """Write a fresh PKI into ``root``.

    Raises:
        PrerequisiteError: ``openssl`` is missing or failed.
    """
    if shutil.which("openssl") is None:
        raise PrerequisiteError("`openssl` is not on PATH; install it (apt-get install "
                                "openssl) for the kubernetes provider's certificates")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    _key(root, "ca")
    _openssl("req", "-x509", "-new", "-nodes", "-key", "ca.key", "-sha256", "-days", "30",
             "-subj", "/CN=cutover-ca", "-out", "ca.crt", cwd=root)
    usage = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
    _signed(root, "apiserver", "/CN=kube-apiserver",
            usage + f"extendedKeyUsage=serverAuth\nsubjectAltName={','.join(SERVER_NAMES)}\n")
    _signed(root, "admin", "/CN=cutover-admin/O=system:masters",
            usage + "extendedKeyUsage=clientAuth\n")
    _key(root, "sa")  # service-account tokens signed ES256
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=root)
    return Pki(root)
