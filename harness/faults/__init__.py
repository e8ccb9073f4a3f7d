"""Faults injected into a run: processes killed, paused or restarted; duplicate events and
aborted transactions in source topics. Each is an event on the run's timeline."""
