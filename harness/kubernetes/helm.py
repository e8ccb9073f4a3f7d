"""Helm, the real CLI, against one kubeconfig and namespace: install, upgrade with
``--reuse-values``, read the values back, uninstall."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import CutoverError, PrerequisiteError


class HelmError(CutoverError):
    """Helm refused a command; carries its output."""


@dataclass
class HelmCall:
    """One Helm command as run, for the run's timeline."""

    args: list[str]
    seconds: float


@dataclass
class Helm:
    """``helm`` for one release location (kubeconfig + namespace)."""

    binary: str
    kubeconfig: str
    namespace: str
    kube_context: str = ""
    timeout_s: float = 120.0
    calls: list[HelmCall] = field(default_factory=list)

    @classmethod
    def find(cls, binary: str | Path | None, *, kubeconfig: str, namespace: str,
             kube_context: str = "", timeout_s: float = 120.0) -> Helm:
        """Helm at ``binary`` (the toolchain's), else the one on PATH.

        Raises:
            PrerequisiteError: No helm anywhere.
        """
        path = str(binary) if binary else shutil.which("helm")
        if not path or not Path(path).exists():
            raise PrerequisiteError("helm is not built or on PATH; run `cutover install "
                                    "--kubernetes` (or install Helm 3)")
        return cls(path, kubeconfig, namespace, kube_context, timeout_s)

    def run(self, *args: str, timeout_s: float | None = None) -> str:
        command = [self.binary, *args, "--kubeconfig", self.kubeconfig,
                   "--namespace", self.namespace]
        if self.kube_context:
            command += ["--kube-context", self.kube_context]
        started = time.monotonic()
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False,
                                    timeout=timeout_s or self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise HelmError(f"helm {' '.join(args[:2])} did not finish in "
                            f"{timeout_s or self.timeout_s:.0f}s") from exc
        self.calls.append(HelmCall(list(args), round(time.monotonic() - started, 3)))
        if result.returncode != 0:
            raise HelmError(f"helm {' '.join(args)} failed ({result.returncode}): "
                            f"{result.stderr.strip()[-1500:]}")
        return result.stdout

    def upgrade(self, release: str, chart: Path, *, install: bool = False,
                reuse_values: bool = False, values_files: Sequence[Path] = (),
                set_values: Mapping[str, Any] | None = None, wait: bool = False) -> None:
        """``helm upgrade [--install] [--reuse-values] -f ... --set k=v ...``.

        Strings are passed with ``--set-string`` (an image tag ``1.10`` stays a string);
        numbers and booleans with ``--set``.
        """
        args = ["upgrade", release, str(chart)]
        if install:
            args += ["--install", "--create-namespace"]
        if reuse_values:
            args.append("--reuse-values")
        for values in values_files:
            args += ["-f", str(values)]
        for key, value in (set_values or {}).items():
            if isinstance(value, bool):
                args += ["--set", f"{key}={'true' if value else 'false'}"]
            elif isinstance(value, int | float):
                args += ["--set", f"{key}={value}"]
            else:
                args += ["--set-string", f"{key}={value}"]
        # Helm gives up first, with its own message and a release it has rolled back to
        # a usable state, before the process would be killed mid-upgrade.
        args += ["--timeout", f"{max(1, int(self.timeout_s * 0.8))}s"]
        if wait:
            args.append("--wait")
        self.run(*args)

    def values(self, release: str) -> dict[str, Any]:
        """The release's user-supplied values (``helm get values -o json``)."""
        return dict(json.loads(self.run("get", "values", release, "-o", "json")) or {})

    def manifest(self, release: str) -> str:
        return self.run("get", "manifest", release)

    def uninstall(self, release: str) -> None:
        self.run("uninstall", release, "--ignore-not-found", "--timeout",
                 f"{max(1, int(self.timeout_s * 0.8))}s")
