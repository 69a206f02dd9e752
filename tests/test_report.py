"""The run report: one self-contained HTML page, images embedded, no errors in a real browser;
and the optional TensorBoard logging."""
import re
import shutil
import sys

import pytest
from PIL import Image

from gankit.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """8 steps with samples, logs and health checks every 2, and one evaluation, trained as a
    user trains: `gankit train` writes the report at the end."""
    out = tmp_path_factory.mktemp("report") / "run"
    overrides = ["train.steps=8", "train.batch_size=16", "model.g_hidden=8", "model.d_hidden=8",
                 "train.device=cpu", "train.log_every=2", "train.sample_every=2",
                 "train.ckpt_every=2", "health.every=2", "train.eval_every=8", "train.eval_n=100"]
    assert main(["train", "--out", str(out), *[a for kv in overrides for a in ("--set", kv)]]) == 0
    return out


def test_training_writes_a_self_contained_report(run_dir):
    page = (run_dir / "report.html").read_text()
    for heading in ("Diagnoses", "Samples", "Training curves", "Metrics", "Config"):
        assert f"<h2>{heading}</h2>" in page
    images = re.findall(r'<img[^>]*src="([^"]*)"', page)
    # final grid, timeline GIF, 4 thumbnails (steps 2-8), training, health and metric curves
    assert len(images) == 9
    assert all(src.startswith(("data:image/png;base64,", "data:image/gif;base64,"))
               for src in images)
    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(?:href|src)="(?!data:)', page)       # nothing fetched from outside
    gif = Image.open(run_dir / "timeline.gif")
    assert gif.format == "GIF" and gif.n_frames >= 4


def test_report_command_rewrites_it_and_refuses_a_non_run(run_dir, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_a_corrupt_log_is_a_clear_error(run_dir, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    with open(copy / "health.jsonl", "a") as f:
        f.write('{"step": 9, "d_lo\n')                      # a line cut short
    assert main(["report", str(copy)]) == 2
    assert "health.jsonl is corrupt (line" in capsys.readouterr().err


def test_report_opens_in_chromium_without_console_errors(run_dir, chromium, tmp_path):
    page = chromium.new_page(viewport={"width": 1300, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: problems.append(f"request {r.url}")
            if not r.url.startswith(("file:", "data:")) else None)
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_load_state("load")
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert len(widths) == 9 and all(w > 0 for w in widths)   # every embedded image decodes
    # sample grids (final, timeline, thumbnails: drawn 3x already) are never shown smaller
    shown = page.eval_on_selector_all(".final img, .thumbs img",
                                      "imgs => imgs.map(i => [i.width, i.naturalWidth])")
    assert len(shown) == 6 and all(w == natural for w, natural in shown), shown
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    page.close()
    assert problems == []


def test_tensorboard_logs_the_same_scalars_and_the_samples(tmp_path):
    pytest.importorskip("tensorboard", reason="the optional tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    out = tmp_path / "tb"
    assert main(["train", "--tensorboard", "--out", str(out), "--set", "train.steps=4",
                 "--set", "train.batch_size=8", "--set", "model.g_hidden=8", "--set",
                 "model.d_hidden=8", "--set", "train.log_every=2", "--set",
                 "train.sample_every=2", "--set", "health.every=2", "--set",
                 "train.device=cpu"]) == 0
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    tags = events.Tags()
    assert {"train/d_loss", "train/g_loss", "train/d_real", "train/d_fake", "train/g_grad",
            "health/diversity", "health/coverage"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("train/d_loss")] == [2, 4]
    assert tags["images"] == ["samples"]


def test_tensorboard_missing_is_a_clear_error_before_any_run_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)   # import now fails
    out = tmp_path / "tb"
    assert main(["train", "--tensorboard", "--out", str(out), "--set", "train.steps=1"]) == 2
    assert "pip install 'gankit[tensorboard]'" in capsys.readouterr().err
    assert not out.exists()
