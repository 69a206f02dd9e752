"""The report's pictures: matplotlib curves and Pillow sample timelines, as PNG/GIF bytes.

matplotlib's object API (`Figure`, no pyplot) renders with Agg and keeps no global state, so
drawing a report inside a training process leaves its other figures alone.
"""

import io
import math
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

COLOURS = {"d": "tab:red", "g": "tab:blue"}
# The training curves of the statistics trainers report (`gankit.stats`): (title, ((stat,
# label, colour[|dashed]), ...), axis: "prob" for [0, 1], "log" or ""). A panel is drawn where
# the run logged its stats; every other logged statistic gets a panel of its own.
PANELS = (("losses", (("d_loss", "D loss", "tab:red"), ("g_loss", "G loss", "tab:blue")), ""),
          ("discriminator", (("d_real", "D(x)", "tab:green"), ("d_fake", "D(G(z))", "tab:orange"),
                             ("d_acc_real", "D accuracy, real", "tab:green|dashed"),
                             ("d_acc_fake", "D accuracy, fake", "tab:orange|dashed")), "prob"),
          ("gradient norms", (("g_grad", "‖∇G‖", "tab:blue"), ("d_grad", "‖∇D‖", "tab:red")),
           "log"),
          ("-ELBO, nats per image", (("loss", "-ELBO", "tab:purple"),), ""),
          ("its two terms", (("recon", "reconstruction", "tab:blue"), ("kl", "KL", "tab:red")), ""))
NOT_STATS = {"step", "kimg", "time_s", "img_per_s"}  # a stats.jsonl line's bookkeeping
# Vertical markers for diagnoses on the curves, by code.
DIAGNOSIS_COLOURS = {"dead_d": "darkred", "dead_g": "darkblue",
                     "d_overpowering": "tab:red", "g_overpowering": "tab:blue",
                     "mode_collapse": "tab:purple", "divergence": "black"}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _mark(ax, diagnoses: list[dict]) -> None:
    for d in diagnoses:
        ax.axvline(d["step"], color=DIAGNOSIS_COLOURS.get(d["diagnosis"], "grey"),
                   linestyle=":", linewidth=1)


def _axes(n: int, title: str) -> tuple[Figure, list]:
    """n panels of 4.2 x 3 inches side by side. Fixed margins (inches, below) rather than
    matplotlib's constrained layout, which measured every tick label's extent and took half
    of the report's drawing time (0.8 of 1.6 s at the end of every run)."""
    width, height = 4.2 * n, 3.0
    left, right, gap, bottom, top = 0.55, 0.15, 0.6, 0.45, 0.62
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(1, n, squeeze=False, gridspec_kw=dict(
        left=left / width, right=1 - right / width, bottom=bottom / height,
        top=1 - top / height, wspace=gap / ((width - left - right - gap * (n - 1)) / n)))[0].tolist()
    fig.suptitle(title, fontsize=10)
    return fig, axes


def panels_for(rows: list[dict]) -> list:
    """The PANELS whose stats stats.jsonl holds, then one per other statistic in it (a lazy
    penalty's may be missing from some lines: those points are left out)."""
    row = {k: v for r in rows for k, v in r.items()}
    panels = [p for p in PANELS if all(stat in row for stat, _, _ in p[1])]
    drawn = {stat for p in PANELS for stat, _, _ in p[1]} | NOT_STATS
    return panels + [(k, ((k, k, f"C{i}"),), "") for i, k in enumerate(
        k for k, v in row.items() if k not in drawn and not k.endswith("_std")
        and isinstance(v, (int, float)))]


def training_curves(rows: list[dict], diagnoses: list[dict]) -> bytes:
    """One panel per entry of `panels_for`; a shaded band of one standard
    deviation (over each log interval, where logged) around each curve on a linear axis."""
    panels = panels_for(rows)
    fig, axes = _axes(len(panels), "training (means over each log interval; dotted lines: "
                      "diagnoses)")
    step = [r["step"] for r in rows]
    for ax, (title, lines, option) in zip(axes, panels):
        for stat, label, style in lines:
            colour, _, dashed = style.partition("|")
            ax.plot(step, [r.get(stat, math.nan) for r in rows], color=colour, label=label,
                    **({"linestyle": "--", "linewidth": 0.8} if dashed else {}))
            if option != "log" and not dashed and all(f"{stat}_std" in r for r in rows):
                ax.fill_between(step, [r[stat] - r[f"{stat}_std"] for r in rows],
                                [r[stat] + r[f"{stat}_std"] for r in rows], color=colour,
                                alpha=0.15, linewidth=0)
        if option == "prob":
            ax.set_ylim(-0.02, 1.02)
        elif option == "log":
            ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        _mark(ax, diagnoses)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    return _png(fig)


def health_curves(checks: list[dict], diagnoses: list[dict]) -> bytes:
    """Sample diversity (share of the real data's) and class or mode coverage vs step."""
    has_cov = all("coverage" in c for c in checks)
    fig, axes = _axes(2 if has_cov else 1, "health checks: G's samples from one fixed noise batch")
    step = [c["step"] for c in checks]
    axes[0].plot(step, [c["diversity"] for c in checks], color="tab:purple", marker=".")
    axes[0].axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    axes[0].set_title("diversity (mean pairwise distance / real data's)", fontsize=9)
    if has_cov:
        axes[1].plot(step, [c["coverage"] for c in checks], color="tab:purple", marker=".")
        axes[1].set_title("classes (toys: modes) covered", fontsize=9)
    for ax in axes:
        _mark(ax, diagnoses)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    return _png(fig)


def metric_curves(series: dict[str, list[tuple[int, float]]]) -> bytes:
    """One panel per metric: (step, value) points from training evaluations and gankit eval."""
    names = list(series)[:4]
    fig, axes = _axes(len(names), "metrics")
    for ax, name in zip(axes, names):
        points = sorted(series[name])
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="tab:green")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    return _png(fig)


def timeline_gif(frames: list[Path], max_frames: int = 60, ms: int = 400) -> bytes:
    """Sample grids in step order as an animated GIF (at most max_frames, the last included);
    each grid carries its step, written on it by the training loop."""
    if len(frames) > max_frames:
        pick = [round(i * (len(frames) - 1) / (max_frames - 1)) for i in range(max_frames)]
        frames = [frames[i] for i in sorted(set(pick))]
    images = [Image.open(f) for f in frames]
    # Grey grids stay grey: GIF takes them as they are, where RGB frames are each quantised
    # to a palette (0.04 s a frame, seconds at the end of a long run).
    mode = "L" if all(im.mode == "L" for im in images) else "RGB"
    images = [im.convert(mode) for im in images]
    size = images[-1].size
    images = [im if im.size == size else im.resize(size, Image.NEAREST) for im in images]
    buf = io.BytesIO()
    # The last frame is held three times as long: it is the result.
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:] + [images[-1]] * 2,
                   duration=ms, loop=0)
    return buf.getvalue()
