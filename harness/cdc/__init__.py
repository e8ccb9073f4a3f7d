"""Change data capture: Kafka Connect connectors and the schema registry."""
