import types

import harness.pipeline


def test_public_names_are_exactly_the_exported_ones():
    public = {name for name, value in vars(harness.pipeline).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public == set(harness.pipeline.__all__)
