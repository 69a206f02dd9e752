"""The run directory's contract (as in StyleGAN2-ADA): the names of its files, and its logs.

Every file name a run directory holds is here, and only here (other modules import them):

    config.json                 the resolved config (preset + overrides)
    stats.jsonl                 one line per logged step, and metric lines
    health.jsonl                health checks and diagnoses
    metrics.jsonl               `gankit eval` results, one line per call
    samples/step-NNNNNN.png     sample grids from one fixed noise batch
    generator.safetensors/.json the generator snapshot, for inference (`gankit.models.snapshot`)
    state.pt                    the training state, for resume (`gankit.training.checkpoint`)
    report.html, timeline.gif   the report (`gankit.report`)
    tensorboard/                optional TensorBoard events (`train.tensorboard=true`)

Logs are JSON Lines: one record per line, appended. The names have not changed since the
first release, so every run directory ever written reads with them.
"""

import json
from pathlib import Path

from gankit.errors import GankitError

CONFIG = "config.json"
STATS = "stats.jsonl"
HEALTH = "health.jsonl"
METRICS = "metrics.jsonl"
SAMPLES = "samples"
SAMPLE_GRIDS = "step-*.png"           # in SAMPLES; sorted by name is sorted by step
SNAPSHOT = "generator"                # the stem: SNAPSHOT.safetensors + SNAPSHOT.json
# The artifact format's suffixes, spelled out: gankit.artifacts imports torch, and the CLI
# imports this module at start-up.
SNAPSHOT_WEIGHTS = f"{SNAPSHOT}.safetensors"
SNAPSHOT_CARD = f"{SNAPSHOT}.json"
STATE = "state.pt"
REPORT = "report.html"
TIMELINE = "timeline.gif"
TENSORBOARD = "tensorboard"

# The files a run writes and reads back: no command's --out may name one (`gankit.cli`).
CONTRACT = frozenset({CONFIG, STATS, HEALTH, METRICS, STATE, SNAPSHOT_WEIGHTS, SNAPSHOT_CARD})


def sample_grid(step: int) -> str:
    """SAMPLES/step-NNNNNN.png, relative to the run directory (zero-padded so names sort)."""
    return f"{SAMPLES}/step-{step:06d}.png"


def append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """Every record of a JSON Lines file ([] where there is none); a corrupt line is one error."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            rec = None
        if not isinstance(rec, dict):
            raise GankitError(f"{path} is corrupt (line {n} is not a JSON record): remove that "
                              "line or the file")
        rows.append(rec)
    return rows
