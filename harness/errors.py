"""Errors the harness raises. Every message names the fix."""

from __future__ import annotations


class CutoverError(Exception):
    """Base of every error the harness raises on purpose."""


class ConfigError(CutoverError):
    """A setting has a value the harness cannot use."""


class UnknownNameError(ConfigError):
    """A provider, service or other registered name does not exist."""

    def __init__(self, kind: str, name: str, known: list[str], *,
                 option: bool = True) -> None:
        """``option``: the name comes from a ``--cutover-<kind>`` option (the message then
        shows one); else from a spec or a call."""
        self.kind, self.name, self.known = kind, name, sorted(known)
        example = f" (for example --cutover-{kind}={self.known[0]})" if option else ""
        super().__init__(
            f"unknown {kind} {name!r}; known {kind}s: {', '.join(self.known)}. "
            f"Pick one of those{example}."
        )


class PrerequisiteError(CutoverError):
    """Something the machine needs (Java, PostgreSQL binaries, an artifact) is missing."""


class PortInUseError(CutoverError):
    """A port that was asked for explicitly is already taken."""


class ServiceStartError(CutoverError):
    """A service did not become ready; the message carries the tail of its log."""

    def __init__(self, service: str, reason: str, *, log_path: str = "",
                 log_tail: str = "") -> None:
        self.service, self.reason = service, reason
        self.log_path, self.log_tail = log_path, log_tail
        message = f"{service}: {reason}"
        if log_path:
            message += f"\n  full log: {log_path}"
        if log_tail:
            indented = "\n".join("    " + line for line in log_tail.splitlines())
            message += f"\n  last lines of its log:\n{indented}"
        super().__init__(message)


class StackStateError(CutoverError):
    """A recorded stack (from `cutover up`) cannot be found or read."""
