"""Throwaway git repositories for the prepare() tests: the files on main, a change on a branch."""

import subprocess
from collections.abc import Callable
from pathlib import Path


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", str(repo),
                    *args], check=True, capture_output=True)


def main_and_release(repo: Path, change: Callable[[], None]) -> None:
    """Commit what ``repo`` holds to ``main``, then ``change()`` to the branch ``release``."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "checkout", "-q", "-b", "release")
    change()
    git(repo, "commit", "-q", "-am", "v2")
