"""The reference scenarios: each runs on the shared session stack, in its own namespace."""

from fixtures.scenario_fixtures import canary_run, cdc_run, platform, platform_canary

__all__ = ["canary_run", "cdc_run", "platform", "platform_canary"]
