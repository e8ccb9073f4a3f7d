"""Which image each service's container runs: ``images.toml``, then the overrides.

``images.toml`` pins, per service, the official image (``default``) and the image
``scripts/build-images`` builds from Debian (``local``). The ``images`` setting picks the
column; ``image_<service>`` settings (``--cutover-image-kafka``,
``CUTOVER_IMAGE_KAFKA``) override one service.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness.errors import ConfigError

MANIFEST = Path(__file__).with_name("images.toml")
SERVICES = ("postgres", "kafka", "flink", "connect", "registry", "haproxy", "prometheus")
COLUMNS = ("default", "local")


def load_images(path: Path = MANIFEST) -> dict[str, dict[str, str]]:
    """Service → {"default": image, "local": image}, every tag explicit."""
    data = tomllib.loads(path.read_text())
    images = {name: {c: str(table[c]) for c in COLUMNS}
              for name, table in data.items() if isinstance(table, dict) and "default" in table}
    missing = set(SERVICES) - set(images)
    if missing:
        raise ConfigError(f"{path} has no image for {sorted(missing)}")
    return images


def image_for(service: str, *, column: str, overrides: dict[str, str],
              images: dict[str, dict[str, str]] | None = None) -> str:
    """The image of ``service``: its override, else the manifest's ``column``.

    Raises:
        ConfigError: An unknown column, or an image without an explicit tag (an untagged
            name means ``:latest``, which is neither pinned nor built here).
    """
    if column not in COLUMNS:
        raise ConfigError(f"images must be one of {', '.join(COLUMNS)}, got {column!r} "
                          "(--cutover-images / CUTOVER_IMAGES)")
    image = overrides.get(service) or (images or load_images())[service][column]
    if ":" not in image.rsplit("/", 1)[-1]:
        raise ConfigError(f"image {image!r} for {service} has no tag; pin one "
                          f"(--cutover-image-{service}=NAME:TAG)")
    return image
