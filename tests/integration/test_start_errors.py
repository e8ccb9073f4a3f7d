import socket

import psutil
import pytest

from harness.errors import PortInUseError, PrerequisiteError, ServiceStartError
from harness.stack import Stack
from harness.stack.local.postgres import PostgresService
from harness.stack.rundir import new_run_dir
from tests.integration.run_root import private_run_root


@pytest.fixture
def run_root():
    with private_run_root() as path:
        yield path


def test_missing_java_fails_before_anything_starts(cutover_config, run_root):
    config = cutover_config.replace(run_root=str(run_root), java="/nonexistent/java")
    with Stack(config) as stack, pytest.raises(PrerequisiteError) as err:
        stack.require("postgres", "kafka")
    assert "openjdk-17-jre-headless" in str(err.value)
    assert stack.services == {}


def test_explicit_port_already_taken_is_a_clear_error(cutover_config, run_root):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        config = cutover_config.replace(run_root=str(run_root), postgres_port=taken)
        with Stack(config) as stack, pytest.raises(PortInUseError) as err:
            stack.require("postgres")
    assert f"port {taken}" in str(err.value)
    assert "--cutover-postgres-port" in str(err.value)


def test_service_dying_during_start_shows_its_log_tail(cutover_config, run_root):
    service = PostgresService(run_dir=new_run_dir(run_root), user=cutover_config["pg_user"],
                              settings={"no_such_setting": "1"})
    service.start()
    pid = service.process.pid
    try:
        with pytest.raises(ServiceStartError) as err:
            service.wait_ready(timeout_s=60)
    finally:
        service.stop()
        service.clean()
    message = str(err.value)
    assert "died during start" in message
    assert 'unrecognized configuration parameter "no_such_setting"' in message
    assert "postgres.log" in message
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_failed_start_tears_down_what_did_start(cutover_config, run_root):
    # A broker JVM needs seconds to answer; half a second is certain to time out.
    config = cutover_config.replace(run_root=str(run_root), start_timeout_s=0.5)
    with Stack(config) as stack:
        with pytest.raises(ServiceStartError, match="not ready after"):
            stack.require("postgres", "kafka")
        assert stack.services == {}
        assert not stack.state.alive()
