import pytest

import harness.stack as stack_api
from harness.errors import PrerequisiteError, UnknownNameError
from harness.stack.local.prereqs import find_java, find_pg_bin_dir
from harness.stack.providers import provider_class, provider_registry


def test_unknown_provider_lists_known_ones():
    with pytest.raises(UnknownNameError) as err:
        provider_class("kubernets")
    assert "kubernets" in str(err.value)
    assert "local" in str(err.value)


def test_registry_holds_only_real_providers():
    assert set(provider_registry()) == {"local", "containers", "kubernetes", "external"}


def test_configured_java_that_does_not_exist_names_the_fix():
    with pytest.raises(PrerequisiteError) as err:
        find_java("/nonexistent/bin/java", environ={})
    assert "openjdk-17-jre-headless" in str(err.value)
    assert "--cutover-java" in str(err.value)


def test_no_java_anywhere_names_the_fix():
    with pytest.raises(PrerequisiteError, match="no Java runtime found"):
        find_java("", environ={"PATH": "/nonexistent"})


def test_java_home_is_preferred_over_path(tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    assert find_java("", environ={"JAVA_HOME": str(tmp_path), "PATH": ""}) == str(java)


def test_missing_postgresql_binaries_name_the_package(tmp_path):
    with pytest.raises(PrerequisiteError, match="apt-get install postgresql"):
        find_pg_bin_dir(str(tmp_path))


def test_public_names_are_exported_deliberately():
    assert sorted(stack_api.__all__) == stack_api.__all__
    for name in stack_api.__all__:
        assert hasattr(stack_api, name)
