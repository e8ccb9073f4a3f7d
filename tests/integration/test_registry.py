"""The schema registry enforces compatibility rules itself."""

import pytest

from harness.cdc.registry import RegistryError, SchemaRegistryClient


def _schema(*fields):
    return {"type": "record", "name": "Account", "namespace": "cutover.test",
            "fields": list(fields)}


ID = {"name": "id", "type": "int"}
OWNER = {"name": "owner", "type": "string"}
EMAIL = {"name": "email", "type": ["null", "string"], "default": None}


@pytest.fixture
def subject(namespace, stack):
    registry = stack.endpoint("registry")
    client = SchemaRegistryClient(registry.ccompat_url)
    name = f"{namespace.name}-value"
    client.register(name, _schema(ID, OWNER))
    client.set_compatibility(name, "FULL_TRANSITIVE")
    yield client, name
    client.close()


def test_adding_an_optional_field_is_accepted_under_full_transitive(subject):
    client, name = subject
    assert client.check(name, _schema(ID, OWNER, EMAIL)).compatible
    client.register(name, _schema(ID, OWNER, EMAIL))
    assert client.versions(name) == [1, 2]
    assert client.compatibility(name) == "FULL_TRANSITIVE"


@pytest.mark.parametrize("incompatible", [
    _schema(ID),                                        # drops a required field
    _schema({"name": "id", "type": "string"}, OWNER),   # changes a type
])
def test_incompatible_changes_are_rejected_by_the_registry(subject, incompatible):
    client, name = subject
    assert not client.check(name, incompatible).compatible
    with pytest.raises(RegistryError, match="409"):
        client.register(name, incompatible)
    assert client.versions(name) == [1]
