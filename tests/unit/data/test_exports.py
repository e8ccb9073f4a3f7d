import harness.data

MODULES = {"encoding", "generator", "injector", "ledger", "plan", "postgres_writer", "product",
           "schema", "write_loop"}


def test_public_names_are_exported_deliberately():
    names = harness.data.__all__
    assert names == sorted(names) and len(set(names)) == len(names)
    assert all(hasattr(harness.data, name) for name in names)
    # isidentifier: pytest may rewrite the package's asserts, which adds "@py_builtins"
    public = {name for name in vars(harness.data)
              if name.isidentifier() and not name.startswith("_") and name not in MODULES}
    assert public == set(names)
