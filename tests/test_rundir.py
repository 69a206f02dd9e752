"""The run directory's file names live in `gankit.rundir` only; the old public names still work."""

import ast
from pathlib import Path

import gankit
from gankit import rundir

ROOT = Path(gankit.__file__).parents[2]
# The names with a suffix: "samples", "tensorboard" and "generator" are also a TensorBoard tag
# and an artifact kind, so a bare word proves nothing.
FILE_NAMES = {v for k, v in vars(rundir).items() if k.isupper() and isinstance(v, str) and "." in v}


def test_the_file_names_are_spelled_only_in_rundir():
    assert {"config.json", "stats.jsonl", "state.pt", "generator.safetensors"} <= FILE_NAMES
    spelled = []
    for folder in ("src/gankit", "benchmarks", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == Path(rundir.__file__):
                continue
            spelled += [f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
                        for node in ast.walk(ast.parse(path.read_text()))
                        if isinstance(node, ast.Constant) and node.value in FILE_NAMES]
    assert not spelled, "import these from gankit.rundir:\n" + "\n".join(spelled)


def test_the_old_names_are_the_same_objects():
    from gankit.cli import CONTRACT
    from gankit.models import snapshot
    from gankit.report import REPORT, TIMELINE
    from gankit.train import checkpoint

    assert checkpoint.STATE == rundir.STATE == "state.pt"
    assert (snapshot.SNAPSHOT_WEIGHTS, snapshot.SNAPSHOT_META) == \
        (rundir.SNAPSHOT_WEIGHTS, rundir.SNAPSHOT_CARD) == ("generator.safetensors", "generator.json")
    assert (REPORT, TIMELINE) == (rundir.REPORT, rundir.TIMELINE)
    assert CONTRACT is rundir.CONTRACT and rundir.STATE in CONTRACT
    assert rundir.sample_grid(600) == "samples/step-000600.png"
    assert Path(rundir.sample_grid(600)).match(f"{rundir.SAMPLES}/{rundir.SAMPLE_GRIDS}")
