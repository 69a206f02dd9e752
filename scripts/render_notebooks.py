"""Run each course notebook top to bottom at its default settings and export it as HTML.

    python scripts/render_notebooks.py               # every notebook -> docs/notebooks/NAME.html
    python scripts/render_notebooks.py 06 08         # only those whose names start so

The kernel imports gankit from this checkout (src/ goes first on PYTHONPATH); the runs the
notebooks train go to a temporary folder, removed afterwards. Prints each notebook's wall
time: the notebooks promise at most 3 minutes each on a 2-core CPU.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "notebooks"
BUDGET_S = 180


def gifs_as_html(nb) -> None:
    """The HTML exporter drops image/gif outputs (`gankit.show` of clips): give each one an
    <img> of the same GIF as its HTML form, so the clips play in the rendered page too."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/gif" in data and "text/html" not in data:
                data["text/html"] = f'<img src="data:image/gif;base64,{data["image/gif"]}">'


def render(path: Path, workdir: Path) -> float:
    """Execute one notebook in `workdir`, write its HTML; returns the seconds it ran."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    CoalesceStreamsPreprocessor().preprocess(nb, {})  # a progress bar's updates: its last line
    gifs_as_html(nb)
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    (OUT / f"{path.stem}.html").write_text(html, encoding="utf-8")
    return seconds


def main(prefixes: list[str]) -> int:
    if os.environ.get("GANKIT_NOTEBOOK_SMALL") == "1":
        print("GANKIT_NOTEBOOK_SMALL=1 is set: unset it to render at the default settings")
        return 2
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    os.environ.pop("MPLBACKEND", None)  # the kernel draws inline
    paths = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
             if not prefixes or p.stem.startswith(tuple(prefixes))]
    OUT.mkdir(parents=True, exist_ok=True)
    slow = []
    for path in paths:
        with tempfile.TemporaryDirectory() as tmp:
            seconds = render(path, Path(tmp))
        size = (OUT / f"{path.stem}.html").stat().st_size
        print(f"{path.stem:36s} {seconds:6.1f} s  -> docs/notebooks/{path.stem}.html "
              f"({size / 1e3:.0f} kB)", flush=True)
        if seconds > BUDGET_S:
            slow.append(path.stem)
    if slow:
        print(f"over {BUDGET_S} s: {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
