"""Traffic routers: who gets which share of the data tier's requests."""

from harness.traffic.haproxy import HaproxyRouter
from harness.traffic.router import Router, RouterError

__all__ = ["HaproxyRouter", "Router", "RouterError"]
