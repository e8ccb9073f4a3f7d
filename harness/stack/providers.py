"""The providers that exist, by name: the one module that imports every concrete
provider, so the :class:`~harness.stack.provider.Provider` interface imports none."""

from __future__ import annotations

from harness.errors import UnknownNameError
from harness.stack.provider import Provider


def provider_registry() -> dict[str, type[Provider]]:
    """Every provider that exists, by name. One line per provider."""
    from harness.stack.containers.provider import ContainersProvider
    from harness.stack.external.provider import ExternalProvider
    from harness.stack.kubernetes.provider import KubernetesProvider
    from harness.stack.local.provider import LocalProvider

    return {provider.name: provider
            for provider in (LocalProvider, ContainersProvider, KubernetesProvider,
                             ExternalProvider)}


def provider_class(name: str) -> type[Provider]:
    """The provider called ``name``; an unknown name lists the known ones."""
    registry = provider_registry()
    if name not in registry:
        raise UnknownNameError("provider", name, list(registry))
    return registry[name]
