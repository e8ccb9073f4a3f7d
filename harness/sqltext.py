"""SQL text built from names (DuckDB and PostgreSQL quote identifiers alike)."""


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier, embedded quotes doubled: ``a"b`` -> ``"a""b"``."""
    return '"' + name.replace('"', '""') + '"'
