from types import ModuleType

import harness.analysis


def test_public_names_are_exported_deliberately() -> None:
    names = harness.analysis.__all__
    assert names == sorted(names) and len(set(names)) == len(names)
    assert all(hasattr(harness.analysis, name) for name in names)
    public = {name for name, obj in vars(harness.analysis).items()
              if not name.startswith("_") and not isinstance(obj, ModuleType)}
    assert public == set(names)
