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


@pytest.fixture
def canary_run(tmp_path, stack, namespace, postgres, iceberg):
    """Stable data tier behind HAProxy with load flowing; the canary not yet deployed."""
    from fixtures.canary import (
        PATHS,
        STABLE,
        CanaryRun,
        seed_tables,
        version_command,
    )
    from harness.deploy.service import ServiceDeployer
    from harness.strategy.flags import FeatureFlags
    from harness.traffic.haproxy import HaproxyRouter
    from harness.traffic.load import LoadGenerator

    identifier = seed_tables(postgres=postgres, iceberg=iceberg, namespace=namespace)
    haproxy, prometheus = stack.endpoint("haproxy"), stack.endpoint("prometheus")
    router = HaproxyRouter(haproxy.admin_socket, haproxy.backend)
    events = EventLog(stack.run_dir / "events" / f"{namespace.name}.jsonl")
    deployer = ServiceDeployer(
        command=version_command(postgres=postgres, iceberg=iceberg, schema=namespace.schema,
                                identifier=identifier),
        router=router, run_dir=tmp_path, events=events, targets_file=prometheus.targets_file)
    load = LoadGenerator(haproxy.url, PATHS, rate_per_s=80, workers=4)
    try:
        deployer.deploy("stable", STABLE)
        router.set_weights({"stable": 100, "canary": 0})
        load.start()
        flags = FeatureFlags(tmp_path / "flags.json")
        flags.update(canary_enabled=True, canary_version="canary-iceberg",
                     auto_promotion_enabled=True)
        yield CanaryRun(deployer, router, load, prometheus.url, flags, events, tmp_path)
    finally:
        load.stop()
        router.set_weights({"stable": 100, "canary": 0})
        deployer.close()
