import socket

import pytest

from harness.errors import PortInUseError
from harness.stack.ports import allocate_port, port_is_free


def test_auto_ports_are_free_and_distinct():
    ports = {allocate_port(purpose="test") for _ in range(20)}
    assert len(ports) == 20
    assert all(port_is_free(p) for p in ports)


def test_explicit_free_port_is_returned_as_is():
    port = allocate_port(purpose="test")
    assert allocate_port(port, purpose="test") == port


def test_explicit_taken_port_fails_naming_the_fix():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        assert not port_is_free(taken)
        with pytest.raises(PortInUseError) as err:
            allocate_port(taken, purpose="PostgreSQL", option="--cutover-postgres-port")
    message = str(err.value)
    assert str(taken) in message
    assert "--cutover-postgres-port" in message
    assert "0 to let cutover pick" in message
