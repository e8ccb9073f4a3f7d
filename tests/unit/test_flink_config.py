from pathlib import Path

from harness.stack.local.flink import FlinkSizing, flink_config

PORTS = {"rest": 1, "jobmanager_rpc": 2, "taskmanager_rpc": 3, "taskmanager_data": 4,
         "blob": 5, "gateway": 6}


def test_every_listener_is_bound_to_loopback():
    config = flink_config(home=Path("/r/flink"), ports=PORTS, sizing=FlinkSizing())
    for key, value in config.items():
        if key.endswith(("bind-host", "bind-address", ".address", "taskmanager.host")):
            assert value == "127.0.0.1", key


def test_checkpoints_and_savepoints_live_in_the_run_directory():
    config = flink_config(home=Path("/r/flink"), ports=PORTS,
                          sizing=FlinkSizing(checkpoint_interval="500ms"))
    assert config["execution.checkpointing.interval"] == "500ms"
    assert config["execution.checkpointing.dir"] == "file:///r/flink/checkpoints"
    assert config["execution.checkpointing.savepoint-dir"] == "file:///r/flink/savepoints"


def test_sizing_reaches_the_config():
    config = flink_config(home=Path("/r"), ports=PORTS, sizing=FlinkSizing(slots=12))
    assert config["taskmanager.numberOfTaskSlots"] == 12
    assert config["rest.port"] == 1
    assert config["sql-gateway.endpoint.rest.port"] == 6
