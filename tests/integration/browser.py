"""Headless Chromium (Debian's package) for tests that must see a page as people do."""

import re
import shutil
import subprocess
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--virtual-time-budget=5000"]


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium is needed to render the report: scripts/bootstrap " \
                 "installs it (apt-get install chromium)"
    return path


def dump_dom(page: Path) -> str:
    """The DOM after the page loaded and its scripts ran."""
    done = subprocess.run([chromium(), *FLAGS, "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "<body" in done.stdout, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 2000) -> Path:
    done = subprocess.run([chromium(), *FLAGS, f"--window-size={width},{height}",
                           f"--screenshot={png}", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    return png


def body_data(dom: str) -> dict[str, str]:
    """The body element's data-* attributes."""
    body = re.search(r"<body([^>]*)>", dom)
    assert body, "no <body> in the rendered page"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
