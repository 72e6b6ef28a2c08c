"""The example notebooks in examples/: stored without outputs, and each executes without error.

Each notebook runs with nbclient on the ``python3`` kernel of the interpreter running the
tests (the venv's ipykernel), in a fresh temporary working directory, with a cell prepended
that checks the kernel's interpreter is this one.  The notebooks assert their own numbers
(theory vs simulation agreement checks); a cell error fails the test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
TIMEOUT_S = 120  # per cell; each notebook is meant to take < 60 s on 2 cores


def test_examples_exist():
    names = {p.name for p in NOTEBOOKS}
    assert "00_theory_in_5_minutes.ipynb" in names
    assert "sweep_on_dask.ipynb" in names
    assert len(NOTEBOOKS) >= 10, sorted(names)
    readme = (EXAMPLES / "README.md").read_text()
    missing = [n for n in names if n not in readme]
    assert not missing, f"notebooks not listed in examples/README.md: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_stripped(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    for i, cell in enumerate(code):
        assert cell.get("outputs") == [], f"{path.name}: code cell {i} has stored outputs"
        assert cell.get("execution_count") is None, (
            f"{path.name}: code cell {i} has execution_count {cell.get('execution_count')}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed")
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed")
    if path.stem == "sweep_on_dask":
        pytest.importorskip("distributed", reason="dask.distributed is not installed (dask extra)")
    nb = nbformat.read(path, as_version=4)
    guard = nbformat.v4.new_code_cell(
        f"import sys\nassert sys.executable == {sys.executable!r}, sys.executable"
    )
    nb.cells.insert(0, guard)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, errors
