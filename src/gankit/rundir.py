"""The run directory's contract (as in StyleGAN2-ADA): the names of its files, and its logs.

A run directory holds `config.json`, `stats.jsonl` (one line per logged step, and metric
lines), `health.jsonl` (health checks and diagnoses), `samples/step-NNNNNN.png`, the generator
snapshot, `state.pt` and `metrics.jsonl`. Logs are JSON Lines: one record per line, appended.
"""

import json
from pathlib import Path

from gankit.errors import GankitError

CONFIG = "config.json"
STATS = "stats.jsonl"
HEALTH = "health.jsonl"
METRICS = "metrics.jsonl"
SAMPLES = "samples"


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
