"""Reference scenarios run on the shared session stack, each in its own namespace."""
