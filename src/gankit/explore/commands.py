"""`gankit explore ...` and `gankit serve`: argument parsing, and one function per subcommand.

Only argparse is imported at module level, so building the CLI stays fast; torch and the
models load when a subcommand runs.
"""

import argparse
import math

from gankit.errors import GankitError


MAX_SEED = 2**63 - 1   # torch.Generator.manual_seed's range, less the negative half
MAX_SEEDS = 1024       # seeds in one picture: more is no picture anyone can read
MAX_FRAMES = 1000      # frames of one interpolation


def whole(lo: int, hi: int):
    """An argparse type: a whole number from lo to hi."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"expected a whole number from {lo} to {hi:,}, "
                                             f"got {text}")
        return value
    return parse


def real(lo: float, hi: float = math.inf, open_lo: bool = False):
    """An argparse type: a finite number from lo (excluded with open_lo) to hi."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < lo or (open_lo and value == lo) or value > hi:
            low = f"above {lo:g}" if open_lo else f"at least {lo:g}"
            high = f" and at most {hi:g}" if math.isfinite(hi) else ""
            raise argparse.ArgumentTypeError(f"expected a finite number {low}{high}, got {text}")
        return value
    return parse


seed = whole(0, MAX_SEED)


def parse_ints(text: str, flag: str) -> list[int]:
    """'0-7' or '0,3,9' (or a mix, '0-3,8') -> a list of seeds (0 to MAX_SEED), at most
    MAX_SEEDS of them; the count is checked before any list is made."""
    spans = []
    try:
        for part in str(text).split(","):
            lo, sep, hi = part.strip().partition("-")
            spans.append((int(lo), int(hi) if sep else int(lo)))
    except ValueError:
        raise GankitError(f"{flag} {text!r}: expected whole numbers like 0-7 or 0,3,9") from None
    if any(not 0 <= a <= MAX_SEED or not 0 <= b <= MAX_SEED for a, b in spans):
        raise GankitError(f"{flag} {text!r}: seeds are whole numbers from 0 to 2**63 - 1")
    count = sum(max(0, b - a + 1) for a, b in spans)
    if not count:
        raise GankitError(f"{flag} {text!r}: expected at least one number, low to high")
    if count > MAX_SEEDS:
        raise GankitError(f"{flag} {text!r} names {count:,} seeds: one picture takes at most "
                          f"{MAX_SEEDS}")
    return [s for a, b in spans for s in range(a, b + 1)]


def parse_psis(text: str) -> list[float]:
    from gankit.generator import check_psi  # in here: gankit --help stays fast

    return [check_psi(p.strip()) for p in str(text).split(",")]


def parse_psi(text: str) -> float:
    from gankit.generator import check_psi  # in here: gankit --help stays fast

    return check_psi(str(text).strip())


def _psi_label(psi: float) -> str:
    return "ψ = ∞" if math.isinf(psi) else f"ψ = {psi:g}"


def _t_labels(steps: int) -> list[str]:
    """Each interpolation frame's position, 0 at the start and 1 at the end."""
    return [f"t = {i / (steps - 1):.2f}" for i in range(steps)]


def _load(args, what: str, video: bool = False):
    """The command's generator; `video`: the command also draws a video generator's clips."""
    from gankit.generator import load  # in here: gankit --help stays fast

    g = load(args.source, args.pretrained)
    g.require_images(what)
    if g.is_video and not video:
        raise GankitError(f"{g.name} makes video clips and this {what} command draws images: "
                          "use gankit explore interp (a GIF of clips) or gankit sample")
    return g


def _class_of(g, value, flag="--class"):
    """The class to draw for a G: required for a conditional G, refused for an unconditional one."""
    if value is None and g.n_classes:
        raise GankitError(f"this generator is conditional: pass {flag} (0 to {g.n_classes - 1} "
                          "or a class name)")
    return None if value is None else g.class_index(value, flag)


def _done(path) -> None:
    print(f"wrote {path}")


def cmd_grid(args) -> None:
    from gankit.explore import pictures  # in here: gankit --help stays fast

    g = _load(args, "explore")
    g.require_conditional("the class x seed grid")
    names = g.class_names
    classes = (list(range(len(names))) if args.classes == "all" else
               [g.class_index(c, "--classes") for c in args.classes.split(",")])
    seeds = parse_ints(args.seeds, "--seeds")
    psi = parse_psi(args.psi)
    images = pictures.class_seed_images(g, classes, seeds, psi)
    _done(pictures.write_grid(images, args.out, nrow=len(seeds),
                              row_labels=[names[c] for c in classes]))


def cmd_interp(args) -> None:
    from gankit.explore import pictures  # in here: gankit --help stays fast

    g = _load(args, "explore", video=True)
    seeds = parse_ints(args.seeds, "--seeds")
    if len(seeds) != 2:
        raise GankitError(f"--seeds {args.seeds!r}: give the two end points, e.g. --seeds 3,8")
    frames = pictures.latent_interpolation_images(g, seeds[0], seeds[1], args.steps, args.method,
                                                  parse_psi(args.psi), _class_of(g, args.class_))
    if g.is_video:  # one clip per step, all playing at once: a clip of clips
        return _done(pictures.write_clips(frames, args.out, fps=args.fps))
    _done(pictures.write_frames(frames, args.out, fps=args.fps, labels=_t_labels(args.steps)))


def cmd_classes(args) -> None:
    from gankit.explore import pictures  # in here: gankit --help stays fast

    g = _load(args, "explore")
    g.require_conditional("interpolation between classes")
    a, b = g.class_index(args.from_, "--from"), g.class_index(args.to, "--to")
    frames = pictures.class_interpolation_images(g, args.seed, a, b, args.steps,
                                                 parse_psi(args.psi))
    _done(pictures.write_frames(frames, args.out, fps=args.fps, labels=_t_labels(args.steps)))


def cmd_truncation(args) -> None:
    from gankit.explore import pictures  # in here: gankit --help stays fast

    g = _load(args, "explore")
    psis = parse_psis(args.psi)
    seeds = parse_ints(args.seeds, "--seeds")
    y = _class_of(g, args.class_)
    forms = ("zero",) if args.to_zero else FORM_CHOICES[args.form]
    if 0 < args.measure < 4:  # the k = 3 nearest neighbours besides each sample itself
        raise GankitError(f"--measure {args.measure}: precision and recall need at least 4 "
                          "samples a row (hundreds to mean much); 0 draws no numbers")
    pictures.check_out(args.out, (".png",))
    measures = {}
    if args.measure:
        every = " (of every class: the rows show one)" if g.n_classes else ""
        print(f"measuring precision and recall of {args.measure} samples per row{every} "
              "(--measure 0 skips) ...", flush=True)
        try:
            measures = {(f, p): pictures.truncation_measure(g, p, pictures.FORMS[f][1], args.measure)
                        for f in forms for p in psis}
        except GankitError as e:
            print(f"no precision or recall under the rows: {e}")
    sheet = pictures.truncation_sheet(g, psis, seeds, y, forms, measures)
    _done(pictures.write_picture(sheet, args.out))
    if measures and "sphere" in forms:
        inf = measures.get(("sphere", math.inf))
        print("kept on its sphere, truncation evens out z's coordinates and keeps its norm: the "
              "samples change little" + ("" if inf is None else
              f" (precision {inf['precision']:.2f}, recall {inf['recall']:.2f} untruncated)") +
              "; squeezed toward 0 it trades recall (variety) for precision")


FORM_CHOICES = {"both": ("sphere", "zero"), "sphere": ("sphere",), "zero": ("zero",)}


def cmd_control(args) -> None:
    import torch  # in here: gankit --help stays fast

    from gankit.explore import control, pictures  # in here: gankit --help stays fast
    from gankit.generator import parse_class  # in here: gankit --help stays fast

    g = _load(args, "explore")
    if g.n_classes:
        raise GankitError("control steers an unconditional generator's noise; this one is "
                          "conditional (choose its class with --class in the other commands)")
    classifier = (control.steering_classifier(g, args.evaluator) if args.steer_with == "robust"
                  else control.evaluator_for(g, args.evaluator))
    n_out = classifier.head.out_features
    # G is unconditional: the classes are the evaluator's, named by the card's data set
    names = [str(c) for c in g.card.get("class_names") or []]
    names = names if len(names) == n_out else [str(i) for i in range(n_out)]
    target = parse_class(args.target, names, "--target")
    if args.seed + args.n - 1 > MAX_SEED:
        raise GankitError(f"--seed {args.seed} --n {args.n}: the seeds seed to seed+n-1 must "
                          "stay at most 2**63 - 1")
    pictures.check_out(args.out, (".png",))
    z0 = control.start_noise(g, args.n, args.seed)
    r = control.steer(g, classifier, z0, target, args.steps, args.step_size, args.penalty,
                      args.confidence)
    judge_net = control.judge_for(g, args.evaluator)
    k = min(args.show, args.n)
    before, after = r.before[:k], r.after[:k]
    label = f"to {names[target]}"
    if judge_net is not None:  # frame the "after" images: green where the judge agrees
        control.judge(r, judge_net)
        before, after = before.expand(-1, 3, -1, -1), control.mark(after, r.accepted[:k])
        label += " (judges: green yes, red no)"
    _done(pictures.write_grid(torch.cat([before, after]), args.out, nrow=k,
                              row_labels=["before", label]))
    was = (r.pred_before == target).float().mean().item()
    print(f"target class {names[target]}: {r.success_rate:.1%} of {args.n} samples classified "
          f"as {names[target]} after steering by the classifier steered with (before: {was:.1%})")
    if judge_net is not None:
        was = (r.judged_before == target).float().mean().item()
        print(f"judged by independent classifiers: {r.judged_rate:.1%} are {names[target]} "
              f"(before: {was:.1%}): every classifier that ships for the data set names it, "
              f"each with probability {control.JUDGE_CONFIDENCE} or more; in the strip, green "
              "frames: the judge agrees")
    else:
        print("no independent judge ships for this data set: the figure above is the steering "
              "classifier's own verdict (a success may be an adversarial example)")
    print(f"distance ||z - z0||: mean {r.distance.mean():.2f}, max {r.distance.max():.2f} "
          f"(|z0| about {z0.norm(dim=1).mean():.1f}); steps used: mean "
          f"{r.steps_used.float().mean():.1f} of {args.steps}")


def cmd_serve(args) -> None:
    from gankit.explore.server import serve  # in here: gankit --help stays fast

    serve(args.source, args.pretrained, args.host, args.port)


_steps = whole(2, MAX_FRAMES)
_fps = real(0, 100, open_lo=True)  # a GIF frame lasts at least 10 ms


def _source_args(p) -> None:
    p.add_argument("source", nargs="?", metavar="RUN_DIR_OR_SNAPSHOT")
    p.add_argument("--pretrained", metavar="NAME", help="a generator shipped with gankit "
                   "(gankit pretrained lists them)")


def add_parsers(sub, positive_int, add_force) -> None:
    """`gankit explore ...` (five subcommands) and `gankit serve`."""
    explore = sub.add_parser("explore", help="pictures of a generator's noise and class space")
    esub = explore.add_subparsers(dest="explore_command", required=True)

    def cmd(name, func, help, out_help="FILE.png"):
        p = esub.add_parser(name, help=help)
        _source_args(p)
        p.add_argument("--out", required=True, help=out_help)
        add_force(p)
        p.set_defaults(func=func)
        return p

    p = cmd("grid", cmd_grid, "class x seed grid of a conditional generator")
    p.add_argument("--classes", default="all", help="'all' or a comma list (default all)")
    p.add_argument("--seeds", default="0-7", help="e.g. 0-7 or 1,5,9 (default 0-7)")
    p.add_argument("--psi", default="inf", help="truncation threshold (default inf: none)")

    gif = "FILE.gif (animated, forth and back) or FILE.png (a strip)"
    p = cmd("interp", cmd_interp, "interpolate between two seeds' noise", gif)
    p.add_argument("--seeds", default="0,1", help="the two ends, e.g. 3,8 (default 0,1)")
    p.add_argument("--method", choices=("slerp", "lerp"), default="slerp")
    p.add_argument("--steps", type=_steps, default=16)
    p.add_argument("--class", dest="class_", help="class, for a conditional generator")
    p.add_argument("--psi", default="inf", help="truncation threshold (default inf: none)")
    p.add_argument("--fps", type=_fps, default=12, help="frames per second, up to 100 "
                   "(default 12)")

    p = cmd("classes", cmd_classes, "interpolate the class vector at fixed noise", gif)
    p.add_argument("--from", dest="from_", required=True, help="start class (index or name)")
    p.add_argument("--to", required=True, help="end class")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--steps", type=_steps, default=16)
    p.add_argument("--psi", default="inf", help="truncation threshold (default inf: none)")
    p.add_argument("--fps", type=_fps, default=12, help="frames per second, up to 100 "
                   "(default 12)")

    p = cmd("truncation", cmd_truncation, "grid over the truncation threshold psi")
    p.add_argument("--psi", default="0,0.25,0.5,1,1.5,2,inf",
                   help="comma list of thresholds >= 0, inf for none (default 0,0.25,0.5,1,1.5,2,inf)")
    p.add_argument("--seeds", default="0-7")
    p.add_argument("--class", dest="class_", help="class, for a conditional generator")
    p.add_argument("--form", choices=tuple(FORM_CHOICES), default="both",
                   help="both (default): the two forms side by side; sphere: z truncated and "
                        "scaled back to its norm; zero: BigGAN's raw truncation, z in "
                        "[-psi, psi]^d (psi 0 gives one image, G(0), for every seed)")
    p.add_argument("--to-zero", action="store_true", help="the same as --form zero")
    p.add_argument("--measure", type=whole(0, 100_000), default=500,
                   help="samples per row for the precision and recall under it (default 500; "
                        "0: none)")

    p = cmd("control", cmd_control, "steer samples toward a class with a classifier's gradient")
    p.add_argument("--target", required=True, help="class to steer toward (index or name)")
    p.add_argument("--n", type=whole(1, MAX_SEEDS), default=64,
                   help=f"samples steered (default 64, at most {MAX_SEEDS})")
    p.add_argument("--seed", type=seed, default=0, help="first seed (samples use seed, seed+1, ...)")
    p.add_argument("--steps", type=whole(0, 100_000), default=100,
                   help="step budget (default 100)")
    p.add_argument("--step-size", type=real(0, open_lo=True), default=0.1,
                   help="distance in z per step (default 0.1)")
    p.add_argument("--penalty", type=real(0), default=0.05,
                   help="weight of ||z - z0||^2 (default 0.05)")
    p.add_argument("--confidence", type=real(0, 1, open_lo=True), default=0.9,
                   help="a sample stops once the classifier gives the target this probability")
    p.add_argument("--evaluator", help="data set whose classifiers steer and judge (default: "
                   "the generator's)")
    p.add_argument("--steer-with", choices=("robust", "evaluator"), default="robust",
                   help="robust (default): the data set's adversarially trained classifier "
                        "where one ships, else its evaluator; evaluator: the evaluator")
    p.add_argument("--show", type=positive_int, default=16, help="samples in the strip (default 16)")

    p = sub.add_parser("serve", help="explore a generator in the browser, on localhost")
    _source_args(p)
    p.add_argument("--port", type=whole(0, 65535), default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=cmd_serve)
