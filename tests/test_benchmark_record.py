"""Benchmarks rewrite their own section of docs/benchmarks.md and nothing else."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import record  # noqa: E402

DOC = """# Benchmarks

before

<!-- speed-shared:start -->
Command: `python benchmarks/speed.py --shared --record`.

| preset | threads | img/s |
|---|---|---|
| `a` | own | 1 |
| `a` | one | 2 |
| `b` | own | 3 |
| `b` | one | 4 |
| `b-small` | own | 5 |
<!-- speed-shared:end -->

after
"""


def test_record_rows_replaces_one_presets_rows_and_keeps_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "DOC", tmp_path / "benchmarks.md")
    record.DOC.write_text(DOC)
    record.record_rows("speed-shared", [["`b`", "own", 30], ["`b`", "one", 40]], "Rows of b rerun.")
    text = record.DOC.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == ["| `a` | own | 1 |", "| `a` | one | 2 |", "| `b` | own | 30 |",
                    "| `b` | one | 40 |", "| `b-small` | own | 5 |"]
    assert "Command: `python benchmarks/speed.py --shared --record`." in text
    assert text.index("Rows of b rerun.") < text.index("<!-- speed-shared:end -->")
    assert text.startswith("# Benchmarks\n\nbefore\n") and text.endswith("after\n")


def test_record_rows_keyed_on_two_cells_replaces_only_the_rows_that_match_both(tmp_path,
                                                                               monkeypatch):
    """speed.py --whole: a preset's 3,000-step row rerun keeps its 300-step row, in order."""
    monkeypatch.setattr(record, "DOC", tmp_path / "benchmarks.md")
    record.DOC.write_text(DOC.replace("| own |", "| 300 |").replace("| one |", "| 3000 |"))
    record.record_rows("speed-shared", [["`a`", 3000, 20], ["`c`", 300, 7]], "rerun", key_cells=2)
    rows = [line for line in record.DOC.read_text().splitlines() if line.startswith("| `")]
    assert rows == ["| `a` | 300 | 1 |", "| `a` | 3000 | 20 |", "| `b` | 300 | 3 |",
                    "| `b` | 3000 | 4 |", "| `b-small` | 300 | 5 |", "| `c` | 300 | 7 |"]


def test_a_rerun_note_replaces_the_earlier_note_on_the_same_rows(tmp_path, monkeypatch):
    """speed.py --whole-merge run twice on the same rows: one note (the latest), not two."""
    monkeypatch.setattr(record, "DOC", tmp_path / "benchmarks.md")
    record.DOC.write_text(DOC)
    for day, value in (("2026-12-06", 30), ("2026-12-07", 31)):
        record.record_rows("speed-shared", [["`b`", "own", value]], f"Rows of b rerun on {day}: x.")
    record.record_rows("speed-shared", [["`a`", "own", 9]], "Rows of a rerun on 2026-12-07: y.")
    text = record.DOC.read_text()
    assert "Rows of b rerun on 2026-12-06" not in text
    assert text.count("Rows of b rerun on 2026-12-07: x.") == 1
    assert "Rows of a rerun on 2026-12-07: y." in text and "| `b` | own | 31 |" in text


def test_record_rows_needs_the_whole_table_first(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "DOC", tmp_path / "benchmarks.md")
    record.DOC.write_text("# Benchmarks\n")
    with pytest.raises(SystemExit, match="record the whole table first"):
        record.record_rows("speed-shared", [["`b`", "own", 30]], "note")
    assert record.DOC.read_text() == "# Benchmarks\n"


def test_a_stopped_health_rerun_keeps_the_rows_it_had_not_reached(tmp_path, monkeypatch):
    """health.py --resume reruns the rows missing from its table; stopped during a later run,
    the table must still hold every recorded row, not only those before the last new one."""
    import health
    doc = tmp_path / "benchmarks.md"
    monkeypatch.setattr(record, "DOC", doc)
    monkeypatch.setattr(health, "PLANTED", {})
    monkeypatch.setattr(health, "monitored", lambda p: True)
    rows = [["a", "`a`", 10, "1", "none"], ["c", "`c`", 30, "3", "none"]]
    health.write(rows, 4, "health-runs")                 # b and d not recorded yet

    def fake_run(preset, overrides, tmp):
        if preset == "d":
            raise KeyboardInterrupt                        # stopped during d's run
        return 2.0, [], [{"step": 20}]
    monkeypatch.setattr(health, "run", fake_run)
    monkeypatch.setattr(sys, "argv", ["health.py", "--presets", "a,b,c,d", "--planted", "none",
                                      "--record", "--resume"])
    with pytest.raises(KeyboardInterrupt):
        health.main()
    table = [line for line in doc.read_text().splitlines() if line.startswith("| ")][1:]
    assert [line.split("|")[1].strip() for line in table] == ["a", "b", "c"]
    assert "| b | `b` | 20 | 2 | none |" in table


def test_a_health_rerun_of_one_preset_keeps_the_planted_rows_and_the_others(tmp_path,
                                                                            monkeypatch):
    """`--presets x --planted none --record --resume --rerun x` replaces x's row only: the
    recorded planted runs (of today's plants) and the other presets' rows stay."""
    import health
    import gankit.config
    doc = tmp_path / "benchmarks.md"
    monkeypatch.setattr(record, "DOC", doc)
    monkeypatch.setattr(health, "PLANTED", {"plant": ("a", ["x=1"]), "old plant": ("a", ["y=2"])})
    monkeypatch.setattr(gankit.config, "preset_names", lambda: ["a", "b"])
    monkeypatch.setattr(health, "monitored", lambda p: True)
    health.write([["plant", "`a` x=1", 5, "1", "d_overpowering at 5"],
                  ["old plant", "`a` y=1", 5, "1", "none"],     # a plant since changed
                  ["a", "`a`", 10, "1", "none"], ["b", "`b`", 30, "3", "mode_collapse at 9"]],
                 4, "health-runs")
    monkeypatch.setattr(health, "run", lambda preset, overrides, tmp: (2.0, [], [{"step": 40}]))
    monkeypatch.setattr(sys, "argv", ["health.py", "--presets", "b", "--planted", "none",
                                      "--record", "--resume", "--rerun", "b"])
    health.main()
    table = [line for line in doc.read_text().splitlines() if line.startswith("| ")][1:]
    assert table == ["| plant | `a` x=1 | 5 | 1 | d_overpowering at 5 |",
                     "| a | `a` | 10 | 1 | none |", "| b | `b` | 40 | 2 | none |"]
