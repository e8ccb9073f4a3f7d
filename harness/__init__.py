"""cutover: verify blue/green and canary deployments of streaming data platforms.

The engine lives here and never imports pytest; `fixtures/` is the thin pytest layer.
"""

__version__ = "0.1.0"
