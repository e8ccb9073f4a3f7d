"""Repository-level pytest configuration; the cutover plugin itself loads by entry point."""

pytest_plugins = ["pytester"]
