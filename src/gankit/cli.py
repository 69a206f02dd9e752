"""The `gankit` command: each subcommand parses its arguments and calls one plain function.

A `GankitError` (bad preset, key, value, path or file) ends in one line on stderr and exit
code 2; argparse's own usage errors exit with 2 as well.
"""

import argparse
import sys
from pathlib import Path

from gankit import rundir
from gankit.errors import GankitError
from gankit.explore.commands import add_parsers as add_explore_parsers, seed, whole


def cmd_train(args) -> None:
    from gankit.config import DEFAULT_PRESET, apply_overrides, load_preset
    from gankit.training import run

    if args.tensorboard:
        args.set.append("train.tensorboard=true")
    if args.device:
        args.set.append(f"train.device={args.device}")
    if args.resume:
        if args.preset or args.out:
            raise GankitError("--resume continues a run with its own config and directory: drop "
                              "--preset/--out (use --set train.steps=M to extend it)")
        run_dir, grid = run.resume(args.resume, args.set)
    else:
        cfg = apply_overrides(load_preset(args.preset or DEFAULT_PRESET), args.set)
        run_dir, grid = run.start(cfg, args.out)
    if grid is not None:  # under torchrun, only rank 0 writes and reports
        if run.read_config(run_dir).train.report:
            from gankit.report import write_report  # matplotlib: loaded only when drawing
            write_report(run_dir)
        print(f"run directory: {run_dir}")
        print(f"final samples: {grid}")
        steps, done = run.read_config(run_dir).train.steps, int(Path(grid).stem.split("-")[-1])
        if done < steps:  # the loop stops early only at train.time_limit
            print(f"stopped at step {done} of {steps} by train.time_limit: gankit train "
                  f"--resume {run_dir} continues it")


def cmd_sample(args) -> None:
    from gankit.sample import write_samples

    path, n = write_samples(args.snapshot, args.out, n=args.n, seed=args.seed,
                            label=args.label, pretrained=args.pretrained)
    rounded = f" ({n} samples: --n rounded up to fill one row per class)" if n != args.n else ""
    print(f"wrote {path}{rounded}")


def cmd_eval(args) -> None:
    from gankit.metrics import evaluate_snapshot, summary_rows
    from gankit.models.snapshot import snapshot_paths
    from gankit.training.run import unwritable

    if args.snapshot and not args.pretrained:  # its numbers are appended to metrics.jsonl
        folder = snapshot_paths(args.snapshot)[0].parent
        if unwritable(folder / rundir.METRICS):
            raise GankitError(f"{unwritable(folder / rundir.METRICS)}, where gankit eval "
                              f"appends its numbers ({rundir.METRICS}): copy the run to a folder "
                              "you may write to")
    record, out = evaluate_snapshot(args.snapshot, args.metrics, args.n, args.inception_weights,
                                    pretrained=args.pretrained, data_path=args.data)
    rows = summary_rows(record["metrics"])
    width = max(len(name) for name, _ in rows)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    p = record["provenance"]
    extractor = p.get("extractor") or p.get("inception_extractor")
    print(f"({p['n_generated']} generated vs {p.get('real')}; extractor: {extractor}; "
          f"{p['seconds']} s)")
    print(f"appended to {out}" if out else "(a shipped generator: not recorded)")


def cmd_attack(args) -> None:
    from gankit.robust import attack_table, train_and_save

    if args.method == "train":
        path, card = train_and_save(args.out, args.adv, args.eps, args.dataset, args.data,
                                    args.epochs, args.steps, args.alpha, args.seed)
        scores = ", ".join(f"{k} {v:.4f}" for k, v in card["held_out_accuracy"].items())
        print(f"held-out accuracy: {scores}")
        print(f"wrote {path} (use it with gankit attack fgsm --model {path})")
        return
    rows, picture, what = attack_table(args.method, args.model, args.eps, args.data, args.n,
                                       args.out, args.steps, args.alpha, args.seed)
    print(f"{args.method.upper()} on {what}; ε on the [0, 1] pixel scale")
    print(f"{'ε':>9}  {'accuracy':>8}  {'error':>8}")
    for i, (eps, acc) in enumerate(rows):
        label = "0 (clean)" if i == 0 else f"{eps:g}"
        print(f"{label:>9}  {100 * acc:7.2f}%  {100 * (1 - acc):7.2f}%")
    print(f"wrote {picture}")


# Files of the run directory contract: no --out may name one, even with --force.
CONTRACT = rundir.CONTRACT


def check_outputs(args) -> None:
    """A command writes only files it creates now: an existing --out is refused unless --force
    names the wish (and a run directory's own files never), before any work is done."""
    out = getattr(args, "out", None)
    if args.command == "train" or not out:
        return
    from gankit.training.run import check_writable  # torch: only for commands that write

    path = Path(out)
    targets = [path] + ([path.with_suffix(".json")] if getattr(args, "method", "") == "train"
                        else [])  # attack train writes the card beside the weights
    for target in targets:
        if target.is_dir():
            raise GankitError(f"--out {out} is a folder: give a file name inside it")
        if target.name in CONTRACT and (target.parent / rundir.CONFIG).is_file():
            raise GankitError(f"--out {target} is a file of the run in {target.parent}: "
                              "write somewhere else")
        if target.exists() and not args.force:
            raise GankitError(f"--out {target} already exists: choose a new name, or add "
                              "--force to replace it")
        if not target.parent.is_dir():
            raise GankitError(f"--out {out}: the folder {target.parent} does not exist")
        check_writable(target, "--out")


def cmd_evaluator(args) -> None:
    from gankit.artifacts import paths
    from gankit.metrics import folder_evaluator

    # --out names a stem: check_outputs sees the stem, and the two files it becomes may exist
    taken = [p for p in paths(args.out) if p.exists()] if args.out else []
    if taken and not args.force:
        raise GankitError(f"--out {args.out}: {taken[0]} already exists: choose a new name, "
                          "or add --force to replace it")
    # the cached one answers only for the cache: an --out asked for is written
    found = None if args.force or args.out else folder_evaluator.find(args.data)
    if found is not None:
        stem, card = found
        print(f"the folder already has an evaluator: {stem}.safetensors (held-out accuracy "
              f"{card['test_accuracy']:.4f}, real-vs-real FID {card['real_vs_real_fid']}); "
              "--force trains a new one")
        return
    weights, card = folder_evaluator.train(args.data, args.out, epochs=args.epochs,
                                           seed=args.seed, background=args.background)
    print(f"held-out accuracy {card['test_accuracy']:.4f} on {card['split']['n_test']} images, "
          f"real-vs-real FID {card['real_vs_real_fid']}")
    print(f"wrote {weights} (gankit eval on a run trained on this folder now uses it)")


def cmd_report(args) -> None:
    from gankit.report import write_report

    print(f"wrote {write_report(args.run_dir, args.out)}")


def cmd_presets(args) -> None:
    from gankit.config import DEFAULT_PRESET, preset_descriptions

    for name, text in preset_descriptions().items():
        mark = " (default)" if name == DEFAULT_PRESET else ""
        print(f"{name:16s} {text}{mark}")


def cmd_pretrained(args) -> None:
    from gankit import pretrained

    available = pretrained.names()
    if not available:
        raise GankitError("no pretrained generators in this install: run "
                          "scripts/train_pretrained.py NAME to make them")
    for name in available:
        print(f"{name:16s} {pretrained.summary(name)}")
    print("(gankit sample --pretrained NAME --out FILE.png; cards in "
          f"{pretrained.snapshot_path(available[0]).parent})")


MAX_N = 1_000_000  # samples one sample or eval call draws (and holds in memory at once)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


class Parser(argparse.ArgumentParser):
    """A usage error is one line too (the usage itself is one --help away); subcommands'
    parsers are of this class as well (argparse makes them with the parent's class)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gankit", description="Train, sample and measure GANs.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a GAN from a preset")
    p.add_argument("--preset", help="preset name (gankit presets lists them)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set train.steps=500 (repeatable)")
    p.add_argument("--out", help="run directory to create (default: runs/NNNNN-PRESET)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted or finished run")
    p.add_argument("--tensorboard", action="store_true",
                   help="also log scalars and sample grids to RUN_DIR/tensorboard (needs the "
                   "tensorboard package: pip install 'gankit[tensorboard]')")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"),
                   help="where to train (the same as --set train.device=...; default auto)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="draw images from a trained generator")
    p.add_argument("snapshot", metavar="RUN_DIR_OR_SNAPSHOT", nargs="?")
    p.add_argument("--pretrained", metavar="NAME", help="a shipped generator (gankit pretrained)")
    p.add_argument("--class", dest="label", metavar="K",
                   help="conditional generators: draw only class K, an index or a name "
                   "(default: one class per row)")
    p.add_argument("--n", type=whole(1, MAX_N), default=64,
                   help=f"number of samples (default 64, at most {MAX_N:,}; a conditional "
                   "generator's grid without --class rounds it up to a multiple of the class "
                   "count, one class per row)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--out", required=True, help="FILE.png (a grid) or FILE.npz (uint8 images)")
    p.set_defaults(func=cmd_sample)
    add_force(p)

    p = sub.add_parser("eval", help="measure a generator (FID, KID, IS, precision/recall, coverage)")
    p.add_argument("snapshot", metavar="RUN_DIR_OR_SNAPSHOT", nargs="?")
    p.add_argument("--pretrained", metavar="NAME", help="a shipped generator (gankit pretrained)")
    p.add_argument("--data", metavar="PATH", help="the real data set's file or folder, where "
                   "it is not at the path the generator was trained with")
    p.add_argument("--metrics", help="comma-separated: fid,kid,is,pr,coverage (default), "
                   "class_acc (conditional G, default there), sharpness, checkerboard and "
                   "inception_fid for images; modes for 2D toy mixtures")
    p.add_argument("--n", type=whole(1, MAX_N),
                   help=f"generated samples (default 10000; toys 2500; at most {MAX_N:,})")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="InceptionV3 weights (.pth or .safetensors) for --metrics inception_fid")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("attack", help="adversarial examples (FGSM, PGD) and adversarial training")
    methods = p.add_subparsers(dest="method", required=True)
    for name, text in (("fgsm", "fast gradient sign method (Goodfellow et al. 2015)"),
                       ("pgd", "projected gradient descent (Madry et al. 2018), the stronger check")):
        a = methods.add_parser(name, help=f"accuracy against ε under {text}")
        a.add_argument("--eps", default="0.05,0.1,0.2,0.25,0.3",
                       help="comma-separated budgets on the [0, 1] pixel scale (default "
                       "0.05,0.1,0.2,0.25,0.3)")
        a.add_argument("--model", default="mnist", help="mnist or fashion (shipped evaluators), "
                       "a GAN run directory (its D) or a classifier file (default mnist)")
        a.add_argument("--data", metavar="NPZ", help="the data set's .npz (default: the held-out "
                       "test images shipped with gankit, MNIST's and Fashion-MNIST's)")
        a.add_argument("--n", type=_positive_int, default=2000,
                       help="held-out images to attack (default 2000)")
        a.add_argument("--out", default=f"attack-{name}.png",
                       help=f"picture to write (default attack-{name}.png)")
        a.add_argument("--seed", type=seed, default=0)
        if name == "pgd":
            a.add_argument("--steps", type=_positive_int, default=40, help="default 40")
            a.add_argument("--alpha", help="step size on the [0, 1] scale (default 2.5 ε / steps)")
        a.set_defaults(func=cmd_attack, steps=40, alpha=None)
        add_force(a)
    a = methods.add_parser("train", help="train a classifier, adversarially with --adv fgsm|fgsm-rs|pgd")
    a.add_argument("--adv", default="fgsm", help="fgsm (default), fgsm-rs (FGSM from a random start, "
                   "Wong et al. 2020), pgd or none (standard training)")
    a.add_argument("--eps", default="0.25", help="training budget on the [0, 1] scale (default 0.25)")
    a.add_argument("--out", required=True, help="FILE.safetensors (then --model FILE)")
    a.add_argument("--dataset", default="mnist", choices=("mnist", "fashion"))
    a.add_argument("--data", metavar="NPZ", help="the data set's .npz (Fashion-MNIST's training "
                   "images are not bundled: fashion-mnist-70k.npz)")
    a.add_argument("--epochs", type=_positive_int, default=6, help="default 6")
    a.add_argument("--steps", type=_positive_int, default=7, help="PGD steps for --adv pgd (default 7)")
    a.add_argument("--alpha", help="PGD step size on the [0, 1] scale (default 2.5 ε / steps)")
    a.add_argument("--seed", type=seed, default=0)
    a.set_defaults(func=cmd_attack)
    add_force(a)

    p = sub.add_parser("evaluator", help="train the classifier whose features measure a "
                       "labelled image folder (FID, KID, precision/recall, coverage)")
    kinds = p.add_subparsers(dest="action", required=True)
    a = kinds.add_parser("train", help="train it on the folder's train split and cache it")
    a.add_argument("--data", required=True, metavar="FOLDER",
                   help="the folder of images in class subfolders")
    a.add_argument("--epochs", type=_positive_int, default=40, help="default 40")
    a.add_argument("--background", default="white",
                   help="transparency composited onto this colour (default white)")
    a.add_argument("--seed", type=seed, default=0)
    a.add_argument("--out", help="weights stem to write (default: the gankit cache, where "
                   "gankit eval finds it)")
    a.add_argument("--force", action="store_true", help="train again even if one exists "
                   "(and replace --out's files)")
    a.set_defaults(func=cmd_evaluator)

    p = sub.add_parser("report", help="write a run's HTML report (curves, diagnoses, samples)")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--out", help="HTML file to write (default: RUN_DIR/report.html)")
    p.set_defaults(func=cmd_report)
    add_force(p)

    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("pretrained", help="list the generators shipped with gankit")
    p.set_defaults(func=cmd_pretrained)

    add_explore_parsers(sub, _positive_int, add_force)  # gankit explore ..., gankit serve
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_outputs(args)
        args.func(args)
    except GankitError as e:
        print(f"gankit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `gankit presets | head`: the reader left; nothing to say
        sys.stdout = None  # no flush of the closed pipe at exit either
        return 0
    except KeyboardInterrupt:
        print(f"gankit {args.command}: interrupted; completed checkpoints are intact "
              "(continue with gankit train --resume RUN_DIR)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
