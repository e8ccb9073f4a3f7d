"""The KRaft cluster id handed to kafka-storage on the command line."""
import base64
import uuid
from unittest import mock

from harness.stack.local import kafka


def test_an_id_that_would_read_as_a_flag_is_drawn_again() -> None:
    dash_first = uuid.UUID(bytes=base64.urlsafe_b64decode("-" + "A" * 21 + "=="))
    plain = uuid.UUID(int=1)
    with mock.patch.object(kafka.uuid, "uuid4", side_effect=[dash_first, plain]):
        cid = kafka.kraft_cluster_id()
    assert cid == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")


def test_ids_are_22_url_safe_characters_never_starting_with_a_dash() -> None:
    ids = {kafka.kraft_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(c) == 22 and not c.startswith("-") for c in ids)
