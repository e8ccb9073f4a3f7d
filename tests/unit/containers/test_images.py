import pytest

from harness.config import load_config
from harness.errors import ConfigError
from harness.stack.containers.images import SERVICES, image_for, load_images


def test_every_service_has_a_pinned_official_and_local_image():
    images = load_images()
    assert set(SERVICES) <= set(images)
    for service in SERVICES:
        for column in ("default", "local"):
            assert image_for(service, column=column, overrides={}) == images[service][column]
    assert images["kafka"]["default"] == "apache/kafka:3.9.1"


def test_an_override_wins_and_must_carry_a_tag():
    assert image_for("kafka", column="default", overrides={"kafka": "my/kafka:1"}) == "my/kafka:1"
    with pytest.raises(ConfigError, match=r"no tag; pin one .*--cutover-image-kafka"):
        image_for("kafka", column="default", overrides={"kafka": "registry:5000/my/kafka"})


def test_an_unknown_column_names_the_choices():
    with pytest.raises(ConfigError, match="default, local"):
        image_for("kafka", column="official", overrides={})


def test_images_are_settings_with_environment_variables():
    config = load_config(environ={"CUTOVER_IMAGES": "local",
                                  "CUTOVER_IMAGE_FLINK": "x/flink:2"})
    assert (config["images"], config["image_flink"]) == ("local", "x/flink:2")
