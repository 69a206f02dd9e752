"""Controllable generation: per-target success rate of `gankit explore control`'s steering.

For each class k, steer the same N start points (seeds 0..N-1) toward k as `gankit explore
control` does (with the data set's adversarially trained classifier where one ships, else its
evaluator: `--steer-with`) and count how many the classifier steered with calls k afterwards;
also how far z moved and how much the image changed. That verdict measures reach (it was
steered to say k); the judge (`control.judge_for`: every classifier that ships for the data
set names k with probability 0.9 or more, the rule benchmarks/control_agreement.py measured
against the eye) says whether the target is really there. Look at the strips too.

    python benchmarks/control.py RUN_DIR_OR_SNAPSHOT [--n 64] [--record]
    python benchmarks/control.py --pretrained mnist-dcgan --record
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine, markdown_table, record  # noqa: E402

from gankit.explore import control  # noqa: E402
from gankit.generator import load  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", nargs="?")
    p.add_argument("--pretrained")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--step-size", type=float, default=0.1)
    p.add_argument("--penalty", type=float, default=0.05)
    p.add_argument("--confidence", type=float, default=0.9)
    p.add_argument("--steer-with", choices=["robust", "evaluator"], default="robust",
                   help="as explore control's: the robust classifier where one ships")
    p.add_argument("--record", action="store_true", help="write the table into docs/benchmarks.md")
    args = p.parse_args()
    torch.set_num_threads(1)
    g = load(args.source, args.pretrained)
    g.require_images("control")
    classifier = (control.steering_classifier(g) if args.steer_with == "robust"
                  else control.evaluator_for(g))
    steered_with = ("the adversarially trained classifier" if args.steer_with == "robust"
                    and control.robust_for(g) is not None else "the evaluator")
    judge_net = control.judge_for(g)
    z0 = control.start_noise(g, args.n, 0)
    rows = []
    for k in range(classifier.head.out_features):
        r = control.steer(g, classifier, z0, k, args.steps, args.step_size, args.penalty,
                          args.confidence)
        change = (r.after - r.before).abs().mean().item() / 2  # mean pixel change, [0, 1] units
        judge_cols = ["-", "-"]
        if judge_net is not None:
            control.judge(r, judge_net)
            judge_cols = [f"{(r.judged_before == k).float().mean():.1%}", f"{r.judged_rate:.1%}"]
        rows.append([k, f"{(r.pred_before == k).float().mean():.1%}", f"{r.success_rate:.1%}",
                     *judge_cols, f"{r.distance.mean():.2f}", f"{r.steps_used.float().mean():.0f}",
                     f"{change:.3f}"])
        print(*rows[-1], sep="\t", flush=True)
    mean = sum(float(r[2].rstrip("%")) for r in rows) / len(rows)
    judged = None if judge_net is None else sum(float(r[4].rstrip("%")) for r in rows) / len(rows)
    table = markdown_table(["target", "before", "after", "judge: before", "judge: after",
                            "mean distance in z", "mean steps", "mean pixel change"], rows)
    verdict = (f"Mean success {mean:.1f} % by the classifier steered with, {judged:.1f} % by "
               "the judge." if judged is not None else
               f"Mean success {mean:.1f} % (no independent judge ships for this data set).")
    print(table)
    print(verdict)
    if args.record:
        name = args.pretrained or args.source
        flags = f" --steer-with {args.steer_with}" if args.steer_with != "robust" else ""
        record("control", f"""## Controllable generation (`benchmarks/control.py`)

`python benchmarks/control.py {'--pretrained ' + name if args.pretrained else name} --n {args.n}{flags} --record`:
{args.n} start points (seeds 0..{args.n - 1}) steered toward each class with {steered_with},
as `gankit explore control` steers, at most {args.steps} steps of {args.step_size} in z,
penalty {args.penalty}, stopping at confidence {args.confidence} (|z0| is about
{z0.norm(dim=1).mean():.1f}). "before"/"after": the share the classifier steered with calls the
target; it was steered to say so, so its "after" measures reach. "judge": the same shares by
the judge that marks `explore control`'s strip: a class counts only where every classifier that
ships for the data set (the judge network: another seed, half as wide, trained apart; the
robust classifier; the evaluator) names it with probability {control.JUDGE_CONFIDENCE} or more.
That judge agreed with the eye on 92 % of 128 steered images (`benchmarks/control_agreement.py`).

{table}

{verdict} Machine: {machine()}.""")


if __name__ == "__main__":
    main()
