"""Reference scenarios run on the shared session stack, each in its own namespace."""

from collections.abc import Iterator

import pytest

from fixtures.bluegreen import BlueGreenRun, load_main, product_repository
from fixtures.cdc import start_capture, stop_capture
from fixtures.sentiment import SentimentData
from harness.cdc.connect import ConnectClient
from harness.deploy.flink import FlinkDeployer
from harness.events import EventLog
from harness.pipeline.dialect import KafkaTarget


@pytest.fixture
def blue_green(request, tmp_path, stack, namespace, kafka, flink,
               flink_rest) -> Iterator[BlueGreenRun]:
    """The reference data product in a git repository, ready to deploy in this namespace."""
    repo = product_repository(tmp_path, change="add_sentiment_label")
    model = load_main(repo)
    events = EventLog(stack.run_dir / "events" / f"{namespace.name}.jsonl")
    target = KafkaTarget(bootstrap_servers=kafka.bootstrap_servers,
                         topic_prefix=namespace.topic_prefix,
                         group_prefix=namespace.topic_prefix)
    deployer = FlinkDeployer(gateway_url=flink.sql_gateway_url, rest=flink_rest,
                             target=target, events=events)
    data = SentimentData(model, kafka.bootstrap_servers, namespace.topic_prefix, seed=20261122)
    run = BlueGreenRun(repo, model, data, deployer, events)
    yield run
    run.shutdown()


@pytest.fixture
def cdc_run(tmp_path, stack, namespace, postgres, kafka, flink, flink_rest):
    """The accounts product over CDC: table, connector and deployer in this namespace."""
    registry = stack.endpoint("registry")
    connect = ConnectClient(stack.endpoint("connect").url)
    events = EventLog(stack.run_dir / "events" / f"{namespace.name}.jsonl")
    target = KafkaTarget(bootstrap_servers=kafka.bootstrap_servers,
                         topic_prefix=namespace.topic_prefix,
                         group_prefix=namespace.topic_prefix,
                         schema_registry_url=registry.ccompat_url)
    deployer = FlinkDeployer(gateway_url=flink.sql_gateway_url, rest=flink_rest,
                             target=target, events=events)
    run = start_capture(tmp_path=tmp_path, namespace=namespace, postgres=postgres,
                        registry=registry, connect=connect, deployer=deployer, events=events)
    yield run
    stop_capture(run, postgres, f"slot_{namespace.name}")
    connect.close()
