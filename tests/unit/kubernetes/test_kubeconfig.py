import base64

import pytest
import yaml

from harness.errors import ConfigError
from harness.kubernetes.client import load_kubeconfig


def write(tmp_path, users, *, context="c"):
    config = {"current-context": context,
              "clusters": [{"name": "k", "cluster": {
                  "server": "https://127.0.0.1:6443/",
                  "certificate-authority-data": base64.b64encode(b"CA").decode()}}],
              "users": [{"name": "u", "user": users}],
              "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def test_embedded_client_certificate(tmp_path):
    path = write(tmp_path, {"client-certificate-data": base64.b64encode(b"C").decode(),
                            "client-key-data": base64.b64encode(b"K").decode()})
    creds = load_kubeconfig(path)
    assert (creds.server, creds.ca_data, creds.cert_data, creds.key_data) == \
        ("https://127.0.0.1:6443", b"CA", b"C", b"K")


def test_files_are_relative_to_the_kubeconfig(tmp_path):
    (tmp_path / "token").write_text("secret\n")
    creds = load_kubeconfig(write(tmp_path, {"tokenFile": "token"}))
    assert creds.token == "secret"


def test_exec_plugin_token(tmp_path):
    plugin = tmp_path / "fake-credential-plugin"
    plugin.write_text('#!/bin/sh\necho \'{"status": {"token": "from-plugin"}}\'\n')
    plugin.chmod(0o755)
    creds = load_kubeconfig(write(tmp_path, {"exec": {"command": str(plugin)}}))
    assert creds.token == "from-plugin"


def test_an_unknown_context_is_named(tmp_path):
    path = write(tmp_path, {"token": "t"})
    with pytest.raises(ConfigError, match="no context 'other'"):
        load_kubeconfig(path, "other")
