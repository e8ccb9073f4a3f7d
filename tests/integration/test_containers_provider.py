"""The containers provider on a real Docker daemon, with the images scripts/build-images
built: the same endpoints as the local provider, clear errors, and no container left."""


import psycopg
import pytest
from confluent_kafka.admin import AdminClient

from harness.errors import PrerequisiteError
from harness.stack import Stack
from harness.stack.containers.provider import docker_client, run_containers
from harness.stack.rundir import recorded_runs, stop_recorded
from harness.wait import wait_until
from tests.integration.run_root import private_run_root


@pytest.fixture
def client():
    docker = docker_client()
    yield docker
    docker.close()


@pytest.fixture
def containers_config(cutover_config):
    with private_run_root() as run_root:
        yield cutover_config.replace(run_root=str(run_root), provider="containers",
                                     images="local")


def test_services_run_in_containers_and_answer_on_loopback(containers_config, client):
    with Stack(containers_config) as stack:
        endpoints = stack.require("postgres", "kafka")
        run_id = stack.run_dir.name
        containers = {c.labels["cutover.service"]: c for c in run_containers(run_id,
                                                                            client=client)}
        assert set(containers) == {"postgres", "kafka"}
        assert all(c.attrs["HostConfig"]["NetworkMode"] == "host" for c in containers.values())
        assert all(c.attrs["HostConfig"]["Privileged"] is False for c in containers.values())
        with psycopg.connect(endpoints["postgres"].dsn) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        assert endpoints["postgres"].host == "127.0.0.1"
        metadata = AdminClient({"bootstrap.servers": endpoints["kafka"].bootstrap_servers}
                               ).list_topics(timeout=10)
        assert metadata.brokers
        assert (stack.run_dir / "logs" / "kafka.log").read_text(), "container logs collected"
    assert run_containers(run_id, client=client) == [], "teardown removes every container"


def test_a_crashed_harness_leaves_no_container_once_the_janitor_ran(containers_config, client):
    stack = Stack(containers_config)
    stack.require("postgres")
    run_id, state = stack.run_dir.name, stack.state
    stack.detached = True  # as if this process had died without tearing down
    (recorded,) = [s for s in recorded_runs(stack.run_root) if s.run_id == run_id]
    stop_recorded(recorded)
    stack.provider.close()
    wait_until(lambda: None if not run_containers(run_id, client=client) else "still there",
               timeout_s=30, what="the container removed once its process was stopped")
    assert state.services["postgres"]["processes"][0]["pid"] > 0


def test_a_daemon_that_does_not_answer_names_the_fix(containers_config, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with Stack(containers_config) as stack, pytest.raises(PrerequisiteError) as err:
        stack.require("postgres")
    assert "needs a Docker daemon" in str(err.value)
    assert "scripts/docker-daemon" in str(err.value)
    assert stack.services == {}


def test_a_missing_image_names_the_fix_and_nothing_is_pulled(containers_config):
    config = containers_config.replace(image_kafka="cutover/not-built:0.0")
    with Stack(config) as stack, pytest.raises(PrerequisiteError) as err:
        stack.require("postgres", "kafka")
    message = str(err.value)
    assert "cutover/not-built:0.0 (for kafka)" in message
    assert "scripts/build-images" in message and "--cutover-images=local" in message
    assert stack.services == {}, "nothing started when one image is missing"
