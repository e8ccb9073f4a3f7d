import pytest

from harness.errors import ConfigError
from harness.stack.artifacts import component_dir, render_pom
from harness.stack.manifest import load_manifest, parse_manifest

GOOD = """
[kafka]
version = "3.9.1"
main_class = "kafka.Kafka"
artifacts = ["org.apache.kafka:kafka_2.13:3.9.1", "io.x:plugin:1.0:tar.gz:plugin"]
"""


def test_parse_manifest_reads_components():
    kafka = parse_manifest(GOOD)["kafka"]
    assert kafka.version == "3.9.1"
    assert kafka.main_class == "kafka.Kafka"
    assert kafka.artifacts[0] == "org.apache.kafka:kafka_2.13:3.9.1"


def test_shipped_manifest_pins_kafka():
    components = load_manifest()
    assert "kafka" in components
    assert all(len(a.split(":")) >= 3 for a in components["kafka"].artifacts)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[kafka\nversion=1", "not valid TOML"),
        ('[kafka]\nartifacts = ["a:b:1"]', "lacks 'version'"),
        ('[kafka]\nversion = "1"', "lacks 'artifacts'"),
        ('[kafka]\nversion = "1"\nartifacts = []', "non-empty list"),
        ('[kafka]\nversion = "1"\nartifacts = ["just-a-name"]', "not a Maven coordinate"),
        ('kafka = "1"', "must be a table"),
    ],
)
def test_bad_manifest_names_component_and_fix(text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_manifest(text, origin="m.toml")


def test_fingerprint_changes_with_artifacts(tmp_path):
    a = parse_manifest(GOOD)["kafka"]
    b = parse_manifest(GOOD.replace("1.0:tar.gz", "1.1:tar.gz"))["kafka"]
    assert a.fingerprint != b.fingerprint
    assert component_dir(tmp_path, a) != component_dir(tmp_path, b)


def test_pom_lists_every_artifact_with_type_and_classifier():
    pom = render_pom(parse_manifest(GOOD)["kafka"])
    assert "<artifactId>kafka_2.13</artifactId><version>3.9.1</version>" in pom
    assert "<type>tar.gz</type><classifier>plugin</classifier>" in pom
