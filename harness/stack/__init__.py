"""The stack: providers, services and the endpoints tests use."""

from harness.stack.endpoint import Endpoint, HttpEndpoint, KafkaEndpoint, PostgresEndpoint
from harness.stack.namespace import Namespace, namespace_name
from harness.stack.provider import Provider
from harness.stack.providers import provider_class, provider_registry
from harness.stack.service import Service
from harness.stack.stack import Stack

__all__ = [
    "Endpoint",
    "HttpEndpoint",
    "KafkaEndpoint",
    "Namespace",
    "PostgresEndpoint",
    "Provider",
    "Service",
    "Stack",
    "namespace_name",
    "provider_class",
    "provider_registry",
]
