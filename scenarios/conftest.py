"""The reference scenarios: each runs on the shared session stack, in its own namespace."""

from fixtures.scenario_fixtures import blue_green, canary_run, cdc_run

__all__ = ["blue_green", "canary_run", "cdc_run"]
