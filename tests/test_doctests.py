"""The Examples in the public modules' docstrings run and print what they say (numpydoc style)."""

from __future__ import annotations

import doctest
import importlib

import pytest

import reintegration_effects

MODULES = sorted({"reintegration_effects"} | {f"reintegration_effects.{m}" for m in reintegration_effects._EXPORTS.values()})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_estimators_have_examples():
    for name in ("PropensityModel", "PropensityMatching", "DoublyRobustATT"):
        assert "Examples" in getattr(reintegration_effects, name).__doc__, name
