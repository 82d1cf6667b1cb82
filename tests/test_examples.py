"""The researchers' example notebook (docs/examples) runs from top to bottom: its own asserts
check the estimators against the NSW experimental benchmark and lifelines on Rossi."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_notebook_runs(name, tmp_path):
    pytest.importorskip("causaldata")
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(EXAMPLES / name)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
