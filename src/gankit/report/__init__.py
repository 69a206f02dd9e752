"""`gankit report RUN_DIR`: one self-contained HTML page about a run, also written after training.

It reads the run directory's files (config.json, stats.jsonl, health.jsonl, metrics.jsonl,
samples/) and shows the config, the training curves, the metric curves, the health
diagnoses with their advice, the sample-grid timeline (also written as `timeline.gif`) and the
final samples. Every picture is embedded as a base64 data URI and the page has no script and
no link out, so it opens offline, from a mail attachment or a copied folder.
"""

import base64
import html
import json
import numbers
import re
import sys
from pathlib import Path

from PIL import Image, UnidentifiedImageError

import gankit
from gankit.errors import GankitError
from gankit.data.toy import TOY_NAMES
from gankit.data.video import VIDEO_NAMES
from gankit.metrics.registry import metric_series
from gankit.models import MODEL_NAMES, config_keys
from gankit.report import plots
from gankit.artifacts import atomic_write
from gankit.rundir import (CONFIG, HEALTH, METRICS, REPORT, SAMPLES, STATS, TIMELINE,
                           read_jsonl)
from gankit.training.health import TITLES
from gankit.training.run import check_writable, read_config, unwritable
from gankit.training.protocol import trainer_class

THUMBNAILS = 8

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1280px; margin: 1.5em auto; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em;
       border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
img { max-width: 100%; }
.diag { border-left: 4px solid #c33; background: #fff5f5; padding: 0.5em 0.8em; margin: 0.6em 0; }
.diag.divergence { border-color: #333; background: #f4f4f4; }
.ok { border-left: 4px solid #3a3; background: #f3fbf3; padding: 0.5em 0.8em; }
.advice { color: #333; font-style: italic; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
.thumbs { display: flex; gap: 8px; overflow-x: auto; }
.thumbs figure { margin: 0; flex: none; text-align: center; font-size: 0.8em; color: #555; }
.thumbs img { max-width: none; }
"""
# The sample grids are drawn at least 3x already (gankit.viz): shown at their own size, the
# timeline's grids side by side in a row that scrolls, never scaled down.


def _uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _img(data: bytes, alt: str, mime: str = "image/png", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<img{c} alt="{html.escape(alt)}" src="{_uri(data, mime)}">'


FRAME = re.compile(r"step-(\d+)\.png")  # samples/step-NNNNNN.png, the loop's names


def _number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _require(rows: list[dict], keys, path: Path, every: list[dict] | None = None) -> list[dict]:
    """The records of a log file that the report draws, each with a number for every key
    (`step` a whole one); one that lacks one is named in one line (its place among `every`
    record of the file): an edited or foreign file is never a traceback."""
    for r in rows:
        i = next(j for j, x in enumerate(every or rows, start=1) if x is r)
        bad = [k for k in keys if not _number(r.get(k))
               or (k == "step" and not isinstance(r.get(k), int))]
        if bad:
            named = ", ".join(repr(k) for k in bad[:2]) + (" ..." if len(bad) > 2 else "")
            raise GankitError(f"{path}: record {i} ({json.dumps(r)[:60]}) has no number for "
                              f"{named}: remove that line, or restore the file from a copy of "
                              "the run")
    return rows


def sample_frames(run_dir: Path) -> list[Path]:
    """samples/step-NNNNNN.png in step order; any other file there is left out with a note
    (a copy, a picture a user saved beside them), and an unreadable grid is named."""
    frames, stray = [], []
    for p in sorted((run_dir / SAMPLES).glob("*.png")):
        m = FRAME.fullmatch(p.name)
        if not m:
            stray.append(p.name)
            continue
        try:
            with Image.open(p) as im:
                im.verify()  # reads the whole file: a truncated PNG fails here
        except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as e:
            raise GankitError(f"{p} is not a readable PNG ({type(e).__name__}): remove it (the "
                              "report shows the other grids) or restore it") from None
        frames.append((int(m.group(1)), p))
    if stray:
        print(f"note: left out of the report: {', '.join(stray[:3])}"
              f"{' ...' if len(stray) > 3 else ''} in {run_dir / SAMPLES} (not a sample grid "
              "named step-NNNNNN.png)", file=sys.stderr)
    return [p for _, p in sorted(frames)]


def _last_per_step(rows: list[dict]) -> list[dict]:
    """After a restore, steps are logged again: keep each step's last line, in step order."""
    return sorted({r["step"]: r for r in rows}.values(), key=lambda r: r["step"])


def _metric_series(stats: list[dict], metrics: list[dict]) -> dict:
    """name -> [(step, value)] from evaluations during training and gankit eval records."""
    series: dict[str, list] = {}
    records = [(r["step"], r["metrics"]) for r in stats if "metrics" in r]
    records += [((m.get("provenance") or {}).get("step"), m.get("metrics")) for m in metrics]
    for step, values in records:
        if not isinstance(step, int) or not isinstance(values, dict):
            continue  # a gankit eval of a shipped or copied snapshot: no step to draw it at
        for name, v in metric_series(values).items():  # each metric says which curves it has
            series.setdefault(name, []).append((step, v))
    return series


def _diagnoses_html(checks: list[dict], diagnoses: list[dict], health_on: bool) -> str:
    if not diagnoses:
        if not checks:
            return ("<p>The health monitor did not run (health.every=0, or a run from before "
                    "it existed).</p>" if not health_on else
                    "<p>No health check was reached (the run is shorter than health.every).</p>")
        return (f'<p class="ok">No problems found in {len(checks)} health checks (steps '
                f'{checks[0]["step"]} to {checks[-1]["step"]}): D and G kept pace, samples '
                "stayed varied, training stayed finite.</p>")
    out = []
    for d in diagnoses:
        title = TITLES.get(d["diagnosis"], d["diagnosis"])
        out.append(f'<div class="diag {html.escape(d["diagnosis"])}"><b>Step {d["step"]}: '
                   f'{html.escape(title)}.</b> {html.escape(d["message"])}<br>'
                   f'<span class="advice">Advice: {html.escape(d["advice"])}</span></div>')
    return "\n".join(out)


# data.* keys that only some sources read; the others are shown for every run
SOURCE_KEYS = {"frames": VIDEO_NAMES, "digits": ("moving-mnist",), "n_clips": ("moving-mnist",),
               "background": ("folder",), "fit": ("folder",), "stream_mb": ("folder",),
               "workers": ("folder",), "n_toy": TOY_NAMES, "download": ("mnist", "fashion")}


def _shown(cfg: dict) -> dict:
    """The config a run used: data and model keys its data source and architecture do not
    read (a video's frames in an image run, a toy's n_toy) are left out of the table."""
    cfg = dict(cfg)
    data, model = cfg.get("data"), cfg.get("model")
    if isinstance(data, dict):
        cfg["data"] = {k: v for k, v in data.items()
                       if k not in SOURCE_KEYS or data.get("name") in SOURCE_KEYS[k]}
    if isinstance(model, dict) and model.get("name") in MODEL_NAMES:
        used = config_keys(model["name"])
        cfg["model"] = {k: v for k, v in model.items() if k in used}
    return cfg


def _config_html(cfg: dict) -> str:
    rows = []
    for section, values in _shown(cfg).items():
        if isinstance(values, dict):
            cells = ", ".join(f"{html.escape(k)}={html.escape(json.dumps(v))}"
                              for k, v in values.items())
            rows.append(f"<tr><th>{html.escape(section)}</th><td>{cells}</td></tr>")
        else:
            rows.append(f"<tr><th>{html.escape(section)}</th><td>{html.escape(str(values))}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _samples_html(run_dir: Path, frames: list[Path], keep_gif: bool = True) -> str:
    if not frames:
        return "<p>No sample grids yet.</p>"
    if len(frames) == 1:  # a timeline of one grid would be a still picture
        return (f'<h3>Samples (step {frames[0].stem.split("-")[-1].lstrip("0") or 0}, from the '
                f'fixed noise batch)</h3><div class="final">'
                f'{_img(frames[0].read_bytes(), "final samples")}</div>'
                "<p>One sample grid so far: the timeline starts with the second "
                "(train.sample_every sets how often one is drawn).</p>")
    gif = plots.timeline_gif(frames)
    if keep_gif:
        atomic_write(run_dir / TIMELINE, lambda tmp: Path(tmp).write_bytes(gif))
    last = frames[-1]
    step = lambda p: int(p.stem.split("-")[-1])  # noqa: E731  samples/step-NNNNNN.png
    n = min(THUMBNAILS, len(frames))                  # evenly spaced, first and last included
    pick = sorted({round(i * (len(frames) - 1) / max(n - 1, 1)) for i in range(n)})
    thumbs = "".join(f"<figure>{_img(frames[i].read_bytes(), f'step {step(frames[i])}')}"
                     f"<figcaption>step {step(frames[i])}</figcaption></figure>" for i in pick)
    return (f'<h3>Final samples (step {step(last)}, from the fixed noise batch)</h3>'
            f'<div class="final">{_img(last.read_bytes(), "final samples")}</div>'
            f"<h3>Timeline (animated; also in {TIMELINE})</h3>"
            f'<div class="final">{_img(gif, "sample timeline", "image/gif")}</div>'
            f'<div class="thumbs">{thumbs}</div>')


def build_report(run_dir: Path, keep_gif: bool = True) -> str:
    """The page; `keep_gif`: also write the timeline as RUN_DIR/timeline.gif."""
    trainer_cls = trainer_class(read_config(run_dir))  # did the health monitor watch its kind?
    cfg = json.loads((run_dir / CONFIG).read_text())
    stats = read_jsonl(run_dir / STATS)
    train_rows = [r for r in stats if "metrics" not in r]
    # the fixed panels' statistics the first line has: every line of this run logs them
    drawn = [stat for _, lines, _ in plots.PANELS for stat, _, _ in lines
             if train_rows and stat in train_rows[0]]
    train_rows = _last_per_step(_require(train_rows, ["step", *drawn], run_dir / STATS, stats))
    _require([r for r in stats if "metrics" in r], ["step"], run_dir / STATS, stats)
    health = run_dir / HEALTH
    records = read_jsonl(health)  # read_health's split, kept here to name a record's line
    checks, diagnoses = ([r for r in records if "diagnosis" not in r],
                         [r for r in records if "diagnosis" in r])
    checks = _last_per_step(_require(checks, ["step", "diversity"], health, records))
    _require(diagnoses, ["step"], health, records)
    for d in diagnoses:
        d.setdefault("message", ""), d.setdefault("advice", "")
        d["diagnosis"] = str(d["diagnosis"])
    series = _metric_series(stats, read_jsonl(run_dir / METRICS))
    frames = sample_frames(run_dir)
    health_on = cfg.get("health", {}).get("every", 0) > 0 and trainer_cls.monitored
    last = train_rows[-1] if train_rows else {}
    summary = (f"preset {cfg.get('preset')} · {last.get('step', 0)} steps · "
               f"{last.get('kimg', 0):g} kimg · {last.get('time_s', 0):.0f} s of training")
    parts = [f"<h1>gankit run {html.escape(run_dir.resolve().name)}</h1>",
             f'<p class="sub">{html.escape(summary)}<br>{html.escape(cfg.get("description", ""))}'
             f"</p>",
             *(("<h2>Diagnoses</h2>", _diagnoses_html(checks, diagnoses, health_on))
               if trainer_cls.monitored else ()),
             "<h2>Samples</h2>", _samples_html(run_dir, frames, keep_gif),
             "<h2>Training curves</h2>"]
    if train_rows:
        parts.append(_img(plots.training_curves(train_rows, diagnoses),
                          "training curves"))
    else:
        parts.append("<p>No training statistics logged yet.</p>")
    if checks:
        parts.append(_img(plots.health_curves(checks, diagnoses), "health curves"))
    if series:
        parts += ["<h2>Metrics</h2>", _img(plots.metric_curves(series), "metric curves")]
    parts += ["<h2>Config</h2>", _config_html(cfg)]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>gankit report: {html.escape(run_dir.resolve().name)}</title>"
            f"<style>{CSS}</style></head><body>\n{body}\n"
            f'<p class="sub">Written by gankit {gankit.__version__}.</p></body></html>\n')


def write_report(run_dir, out=None) -> Path:
    """Write RUN_DIR/report.html (or `out`); returns its path."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).is_file():
        raise GankitError(f"{run_dir} is not a run directory (no config.json): give a directory "
                          "written by gankit train")
    given = out is not None
    out = Path(out) if given else run_dir / REPORT
    if not out.parent.is_dir():
        raise GankitError(f"--out {out}: the folder {out.parent} does not exist")
    if given:
        check_writable(out, "--out")
    elif unwritable(out):
        raise GankitError(f"{unwritable(out)}, where the report goes: give --out FILE.html in "
                          "a folder you may write to")
    keep_gif = unwritable(run_dir / TIMELINE) is None  # the GIF beside the run's grids too
    page = build_report(run_dir, keep_gif)
    atomic_write(out, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    return out
