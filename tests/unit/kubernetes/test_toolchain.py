import pytest

from harness.errors import ConfigError, PrerequisiteError
from harness.stack.kubernetes.toolchain import (
    find_toolchain,
    load_pins,
    staging_modules,
    toolchain_dir,
    version_ldflags,
)


def test_pins_are_read_from_versions_toml():
    pins = load_pins()
    assert pins["kubernetes"].module == "k8s.io/kubernetes"
    assert pins["kubernetes"].staging_version.startswith("v0.")
    assert pins["helm"].package.endswith("/cmd/helm")


def test_a_missing_pin_is_named():
    with pytest.raises(ConfigError, match=r"\[go.etcd\]"):
        load_pins('[go.kubernetes]\nmodule = "k8s.io/kubernetes"\nversion = "v1"\n')


def test_staging_modules_are_the_local_replaces():
    gomod = """module k8s.io/kubernetes
replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tgithub.com/x/y => github.com/x/y v1.0.0
)
"""
    assert staging_modules(gomod) == ["k8s.io/api", "k8s.io/client-go"]


def test_version_ldflags_set_both_version_packages():
    flags = version_ldflags("v1.34.3")
    assert "-X k8s.io/component-base/version.gitVersion=v1.34.3" in flags
    assert "-X k8s.io/client-go/pkg/version.gitMinor=34" in flags


def test_an_unbuilt_toolchain_names_the_install_command(tmp_path):
    with pytest.raises(PrerequisiteError, match="cutover install --kubernetes"):
        find_toolchain(tmp_path)
    assert toolchain_dir(tmp_path).parent == tmp_path / "kubernetes"
