import pytest

from harness.config import SETTINGS, load_config, resolve
from harness.errors import ConfigError


def test_resolution_order_explicit_beats_everything():
    env = {"CUTOVER_KAFKA_HEAP": "4g"}
    got = resolve("kafka_heap", explicit="1g", cli="2g", ini="3g", environ=env)
    assert (got.value, got.source) == ("1g", "argument")


@pytest.mark.parametrize(
    ("layers", "expected", "source"),
    [
        ({"cli": "2g", "ini": "3g"}, "2g", "command line"),
        ({"ini": "3g"}, "3g", "ini"),
        ({}, "4g", "environment"),
    ],
)
def test_each_layer_beats_the_ones_below(layers, expected, source):
    got = resolve("kafka_heap", environ={"CUTOVER_KAFKA_HEAP": "4g"}, **layers)
    assert (got.value, got.source) == (expected, source)


def test_default_when_nothing_is_set():
    got = resolve("kafka_heap", environ={})
    assert (got.value, got.source) == ("512m", "default")


def test_empty_string_does_not_override_a_lower_layer():
    got = resolve("provider", cli="", environ={"CUTOVER_PROVIDER": "local"})
    assert got.source == "environment"


def test_values_are_parsed_by_type():
    config = load_config(cli={"postgres_port": "5433", "keep": "yes"}, environ={})
    assert config["postgres_port"] == 5433
    assert config["keep"] is True


def test_bad_value_names_the_option_and_env_var():
    with pytest.raises(ConfigError) as err:
        load_config(environ={"CUTOVER_KAFKA_PORT": "99999"})
    assert "--cutover-kafka-port" in str(err.value)
    assert "CUTOVER_KAFKA_PORT" in str(err.value)


def test_unknown_setting_is_an_error_listing_known_ones():
    with pytest.raises(ConfigError, match="known"):
        load_config(cli={"provder": "local"}, environ={})


def test_environment_is_read_at_call_time_not_import_time(monkeypatch):
    monkeypatch.setenv("CUTOVER_PROVIDER", "from-env")
    assert load_config()["provider"] == "from-env"


def test_run_root_default_follows_tmpdir():
    config = load_config(environ={"TMPDIR": "/var/tmp/x"})
    assert config["run_root"].startswith("/var/tmp/x/cutover-")


def test_cache_dir_default_follows_xdg():
    assert load_config(environ={"XDG_CACHE_HOME": "/c"})["cache_dir"] == "/c/cutover"


def test_replace_marks_values_as_explicit():
    config = load_config(environ={}).replace(kafka_heap="1g")
    assert config["kafka_heap"] == "1g"
    assert config.sources["kafka_heap"] == "argument"
    with pytest.raises(ConfigError):
        config.replace(nope=1)


def test_every_setting_has_option_ini_and_env_names():
    for setting in SETTINGS.values():
        assert setting.option.startswith("--cutover-")
        assert setting.ini_key.startswith("cutover_")
        assert setting.env_var.startswith("CUTOVER_")
