"""The Examples in the public modules' docstrings run and print what they say (numpydoc style)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import reintegration_effects


def _with_submodules(name: str) -> list[str]:
    """A module, and every module inside it when it is a package (names re-exported by a package
    are documented, and tested, where they are defined)."""
    module = importlib.import_module(name)
    inner = [m.name for m in pkgutil.iter_modules(getattr(module, "__path__", []), prefix=f"{name}.")]
    return [name, *inner]


MODULES = sorted({m for top in {f"reintegration_effects.{m}" for m in reintegration_effects._EXPORTS.values()}
                  for m in _with_submodules(top)} | {"reintegration_effects"})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_estimators_have_examples():
    for name in ("PropensityModel", "PropensityMatching", "DoublyRobustATT"):
        assert "Examples" in getattr(reintegration_effects, name).__doc__, name
