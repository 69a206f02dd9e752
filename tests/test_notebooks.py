"""Every course notebook runs top to bottom (nbclient), with GANKIT_NOTEBOOK_SMALL=1 shrinking
its steps and samples; a cell that raises fails the test. The notebooks are committed without
outputs and written by scripts/make_notebooks.py, which must not have drifted from them."""

import json
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebooks extra: pip install -e '.[notebooks]'")
nbclient = pytest.importorskip("nbclient", reason="the notebooks extra: pip install -e '.[notebooks]'")
pytest.importorskip("ipykernel", reason="the notebooks extra: pip install -e '.[notebooks]'")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook_per_part_of_the_course():
    assert len(NOTEBOOKS) == 12, [p.name for p in NOTEBOOKS]


def test_notebooks_are_committed_without_outputs_and_match_their_script(tmp_path):
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
    script = ROOT / "scripts" / "make_notebooks.py"
    spec = {"__name__": "make_notebooks", "__file__": str(script)}  # loaded, main() not run
    exec(compile(script.read_text(), str(script), "exec"), spec)
    for name, nb in spec["NOTEBOOKS"].items():
        written = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        fresh = json.loads(nbformat.writes(nb))
        strip = lambda d: [(c["cell_type"], c["source"]) for c in d["cells"]]  # noqa: E731
        assert strip(written) == strip(fresh), f"{name}: rerun python scripts/make_notebooks.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_NOTEBOOK_SMALL", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws inline
    # the kernel imports gankit from this checkout, also where it is not installed
    src = str(ROOT / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the failing cell, if any cell raises
