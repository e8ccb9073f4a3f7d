"""Faults injected into a run: processes killed, paused or restarted; the network between
Flink and Kafka degraded; duplicate events, poison pills and aborted transactions in
source topics; a full warehouse. Each is an event on the run's timeline."""
