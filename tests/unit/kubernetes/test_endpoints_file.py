import pytest

from harness.errors import ConfigError
from harness.stack.endpoint import KafkaEndpoint, PostgresEndpoint
from harness.stack.external.endpoints_file import parse_endpoints, render_endpoints


def test_round_trip_of_endpoint_dicts():
    endpoints = {"postgres": PostgresEndpoint("postgres", "127.0.0.1", 5432, "u", "db"),
                 "kafka": KafkaEndpoint("kafka", "127.0.0.1:9092")}
    text = render_endpoints({n: e.to_dict() for n, e in endpoints.items()})
    assert parse_endpoints(text, origin="f") == endpoints


def test_a_missing_key_is_named():
    with pytest.raises(ConfigError, match=r"\[postgres\] lacks database"):
        parse_endpoints('[postgres]\nhost="h"\nport=1\nuser="u"\n', origin="f")


def test_an_unknown_service_lists_the_known():
    with pytest.raises(ConfigError, match="unknown service \\[redis\\]"):
        parse_endpoints('[redis]\nurl="x"\n', origin="f")


def test_an_unknown_key_lists_the_keys():
    with pytest.raises(ConfigError, match="unknown keys \\['hostname'\\]"):
        parse_endpoints('[kafka]\nbootstrap_servers="h:1"\nhostname="x"\n', origin="f")
