"""Write the course notebooks (notebooks/NN-name.ipynb) from the cells below, without outputs.

    python scripts/make_notebooks.py        # rewrites every notebook

Each notebook reads GANKIT_NOTEBOOK_SMALL=1 (the test suite sets it) to shrink its training
steps and sample counts; its defaults run top to bottom on a 2-core CPU in about 3 minutes.
Edit the cells here, not the .ipynb files, so the notebooks stay reviewable as Python.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "notebooks"

SETUP = '''import os
import matplotlib.pyplot as plt
import torch
import gankit

SMALL = os.environ.get("GANKIT_NOTEBOOK_SMALL") == "1"  # the test suite's quick settings
def small(default, quick):
    """The default setting, or a much smaller one when the tests run this notebook."""
    return quick if SMALL else default'''


def notebook(title: str, *cells: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells.append(new_markdown_cell(title))
    nb.cells.append(new_code_cell(SETUP))
    for text in cells:
        text = text.strip("\n")
        if text.startswith("## ") or text.startswith("md:"):
            nb.cells.append(new_markdown_cell(text.removeprefix("md:").strip()))
        else:
            nb.cells.append(new_code_cell(text))
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # stable ids: regenerating changes only what was edited
    return nb


NOTEBOOKS = {}

NOTEBOOKS["01-bce-and-saturation"] = notebook(
    "# 1. Binary cross-entropy, and why G's minimax loss saturates\n\n"
    "D outputs a logit $a$; $D(x) = \\sigma(a)$. BCE has one part per class: "
    "$-\\log D(x)$ for a real image (label 1) and $-\\log(1 - D(G(z)))$ for a fake (label 0). "
    "Each is near 0 when D is right and grows without bound when it is wrong.",
    '''d = torch.linspace(0.001, 0.999, 500)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(d, -torch.log(d), label="label 1 (real): $-\\\\log D$")
ax.plot(d, -torch.log(1 - d), label="label 0 (fake): $-\\\\log(1-D)$")
ax.set_xlabel("D's output"); ax.set_ylabel("BCE"); ax.set_ylim(0, 7); ax.legend(); plt.show()''',
    "md: G wants D(G(z)) high. The minimax game gives G the loss $\\log(1 - D(G(z)))$ "
    "(minimised); the non-saturating loss is $-\\log D(G(z))$. gankit's loss table "
    "(`gankit.losses`) has both; we differentiate them with respect to D's logit, which is "
    "what flows back into G.",
    '''from gankit.losses import g_loss_minimax, g_loss_non_saturating

def grad_of(loss_fn, logits):
    """d loss / d logit for each sample (the loss functions average over the batch)."""
    a = logits.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(a) * len(a), a)
    return grad

a = torch.logit(d)                             # logits giving D(G(z)) = d
losses = {"minimax  log(1 - D)": torch.log(1 - d), "non-saturating  -log D": -torch.log(d)}
grads = {"minimax": grad_of(g_loss_minimax, a),
         "non-saturating": grad_of(g_loss_non_saturating, a)}
fig, (l, r) = plt.subplots(1, 2, figsize=(10, 3))
for name, v in losses.items():
    l.plot(d, v, label=name)
l.set_xlabel("D(G(z))"); l.set_title("G's loss"); l.legend()
for name, g in grads.items():
    r.plot(d, g.abs(), label=name)
r.set_xlabel("D(G(z))"); r.set_title("|d loss / d logit|: the signal reaching G"); r.legend()
plt.show()
for p in (0.001, 0.01, 0.5):
    i = int((d - p).abs().argmin())
    print(f"D(G(z)) = {p}: minimax gradient {grads['minimax'][i].abs():.4f}, "
          f"non-saturating {grads['non-saturating'][i].abs():.4f}")''',
    "md: Early in training D easily spots fakes, D(G(z)) ≈ 0: exactly where the minimax "
    "gradient, $\\sigma(a) = D(G(z))$, vanishes, while the non-saturating one, "
    "$1 - D(G(z))$, is largest. That is why every gankit preset trains G with the "
    "non-saturating loss (notebook 6 plants the minimax one on purpose).",
)

NOTEBOOKS["02-activations"] = notebook(
    "# 2. Activations and their derivatives; dying ReLUs\n\n"
    "Activations must be non-linear (to approximate complex functions) and differentiable "
    "(for backpropagation).",
    '''z = torch.linspace(-5, 5, 401, requires_grad=True)
acts = {"ReLU": torch.relu, "LeakyReLU(0.2)": lambda t: torch.nn.functional.leaky_relu(t, 0.2),
        "sigmoid": torch.sigmoid, "tanh": torch.tanh}
fig, axes = plt.subplots(1, 4, figsize=(14, 3))
for ax, (name, f) in zip(axes, acts.items()):
    y = f(z)
    (dy,) = torch.autograd.grad(y.sum(), z)
    ax.plot(z.detach(), y.detach(), label="f(z)")
    ax.plot(z.detach(), dy, "--", label="f'(z)")
    ax.set_title(name); ax.legend(fontsize=7)
plt.show()''',
    "md: Sigmoid's derivative is at most 0.25 and tanh's falls to 0 away from 0: stacked, "
    "they shrink gradients (vanishing gradients). ReLU's derivative is 0 for every z < 0: a "
    "unit whose input is negative for every example gets no gradient and never recovers "
    "(a *dying ReLU*). LeakyReLU keeps a small slope there.\n\n"
    "Count dead units in a real layer: the ReLUs of the shipped DCGAN generator "
    "(`gankit.load(\"mnist-dcgan\")`), over a batch of noise.",
    '''g = gankit.load("mnist-dcgan")
G = g.module.eval()
outputs = {}
hooks = [m.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o))
         for name, m in G.named_modules() if isinstance(m, torch.nn.ReLU)]
with torch.no_grad():
    G(g.noise(small(512, 64), seed=0))
for h in hooks:
    h.remove()
for name, o in outputs.items():
    per_channel = o.transpose(0, 1).reshape(o.shape[1], -1)      # (C, B*H*W)
    dead = int((per_channel <= 0).all(dim=1).sum())
    print(f"{name:20s} {tuple(o.shape)}: {dead}/{o.shape[1]} channels never active, "
          f"{(o > 0).float().mean():.0%} of activations positive")''',
    "md: A few dead channels are normal; many would waste capacity. D uses LeakyReLU (0.2) "
    "so that every unit passes gradient back to G.",
)

NOTEBOOKS["03-batch-norm"] = notebook(
    "# 3. Batch normalisation: training-mode vs running statistics\n\n"
    "In training mode BatchNorm normalises with the batch's own mean and variance "
    "$\\hat z = (z - \\mu_B)/\\sqrt{\\sigma_B^2 + \\epsilon}$, then scales and shifts "
    "($\\gamma \\hat z + \\beta$), and keeps a running average of $\\mu$ and $\\sigma^2$. "
    "In eval mode it uses those running statistics instead.",
    '''torch.manual_seed(0)
bn = torch.nn.BatchNorm1d(1, momentum=0.1)
for _ in range(200):                                 # training: data with mean 3, std 2
    bn(3 + 2 * torch.randn(64, 1))
print(f"running mean {bn.running_mean.item():.2f}, running var {bn.running_var.item():.2f}")
x = 3 + 2 * torch.randn(8, 1)
bn.train(); y_train = bn(x).detach().squeeze()
bn.eval(); y_eval = bn(x).detach().squeeze()
print("train mode:", y_train.numpy().round(2))
print("eval mode: ", y_eval.numpy().round(2))
one = torch.tensor([[10.0]])
print("one example, eval mode:", bn(one).item(), "(training mode cannot normalise a batch of 1)")''',
    "md: What eval mode does to a generator's samples: the shipped DCGAN's G drawn in eval "
    "mode (running statistics, as gankit always samples) and in training mode on small "
    "batches (each batch normalised by itself, so a sample depends on its batch-mates).",
    '''import copy
g = gankit.load("mnist-dcgan")
z = g.noise(16, seed=0)
eval_images = g.render(z)                          # eval mode
G_train = copy.deepcopy(g.module).train()          # a copy: its running stats may change
with torch.no_grad():
    batch_of_4 = torch.cat([G_train(z[i:i + 4]) for i in range(0, 16, 4)])
    batch_of_16 = G_train(z)
gankit.show(eval_images, nrow=8, title="eval mode (running statistics)")
gankit.show(batch_of_4, nrow=8, title="training mode, batches of 4")
gankit.show(batch_of_16, nrow=8, title="training mode, one batch of 16")
print(f"mean |difference| eval vs train-mode(4): {(eval_images - batch_of_4).abs().mean():.3f}")''',
)

NOTEBOOKS["04-convolutions"] = notebook(
    "# 4. Convolutions, pooling, up-sampling, transposed convolutions and checkerboards",
    '''x = torch.arange(1.0, 37).reshape(1, 1, 6, 6)
for k, s, p in [(3, 1, 0), (3, 1, 1), (3, 2, 1), (4, 2, 1)]:
    conv = torch.nn.Conv2d(1, 1, k, stride=s, padding=p)
    out = (6 + 2 * p - k) // s + 1
    print(f"conv k={k} stride={s} padding={p}: 6x6 -> {tuple(conv(x).shape[-2:])} "
          f"(formula (n + 2p - k) // s + 1 = {out})")
print("max pool 2:", tuple(torch.nn.MaxPool2d(2)(x).shape[-2:]), "\\n", torch.nn.MaxPool2d(2)(x)[0, 0])
print("nearest up-sampling x2:\\n", torch.nn.Upsample(scale_factor=2, mode="nearest")(x[..., :2, :2])[0, 0])''',
    "md: A transposed convolution with stride s is a plain convolution over the input with "
    "s - 1 zeros inserted between pixels (and k - 1 - p zeros of padding), with the kernel "
    "flipped. Its output size is $(n - 1)s - 2p + k$.",
    '''torch.manual_seed(0)
k, s, p = 4, 2, 1
tconv = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, bias=False)
x = torch.randn(1, 1, 5, 5)
y = tconv(x)
spread = torch.zeros(1, 1, (5 - 1) * s + 1, (5 - 1) * s + 1)
spread[..., ::s, ::s] = x                                         # zero insertion
flipped = tconv.weight.flip(-1, -2).transpose(0, 1)
y2 = torch.nn.functional.conv2d(spread, flipped, padding=k - 1 - p)
print(f"5x5 -> {tuple(y.shape[-2:])} (formula (n-1)s - 2p + k = {(5 - 1) * s - 2 * p + k}); "
      f"zero-insertion view matches: {torch.allclose(y, y2, atol=1e-6)}")
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, img, t in zip(axes, [x, spread, y], ["input", "zeros inserted", "transposed conv"]):
    ax.imshow(img[0, 0].detach(), cmap="gray"); ax.set_title(t); ax.axis("off")
plt.show()''',
    "md: Where the kernel size is not a multiple of the stride, output pixels receive "
    "different numbers of kernel taps: an uneven overlap, the checkerboard. "
    "`gankit.metrics.spectrum.checkerboard` measures it: power at the stride-2 frequencies "
    "over the average power at the same radius (about 1: no artifact). Two stacks of "
    "untrained up-sampling layers on the same random features: transposed (k=3, s=2) vs "
    "nearest resize + conv.",
    '''from gankit.metrics.spectrum import checkerboard
from gankit.data import load_data

def stack(kind, seed=0):
    torch.manual_seed(seed)
    layers = []
    for c_in, c_out in [(32, 16), (16, 8), (8, 1)]:
        if kind == "transposed":
            layers += [torch.nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
        else:
            layers += [torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(c_in, c_out, 3, padding=1)]
        layers += [torch.nn.ReLU()] if c_out > 1 else [torch.nn.Tanh()]
    return torch.nn.Sequential(*layers)

features = torch.randn(small(256, 64), 32, 4, 4, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    images = {kind: stack(kind)(features) for kind in ("transposed", "resize")}  # (N, 1, 32, 32)
real = load_data("mnist").images[:small(2000, 256)]
for kind, im in images.items():
    print(f"{kind:10s}: checkerboard {checkerboard(im):.2f}")
print(f"real MNIST : checkerboard {checkerboard(real):.2f}")
fig, axes = plt.subplots(1, 2, figsize=(6, 3))
for ax, (kind, im) in zip(axes, images.items()):
    ax.imshow(im[0, 0], cmap="gray"); ax.set_title(kind); ax.axis("off")
plt.show()''',
    "md: The DCGAN presets' G up-samples by resize + convolution for this reason "
    "(`model.upsample=resize`); `gankit eval RUN --metrics checkerboard` measures a trained G.",
    "md: Convolution arithmetic decides what D can see. The course's D takes 28 -> 13 -> 5 -> 1 "
    "with 4x4 kernels at stride 2 and no padding: the last conv reads rows 0-3 of the 5x5 map, "
    "so the right and bottom six pixels never reach D's logit, and G is free to draw anything "
    "there. Which pixels can move the logit is the gradient's support. `model.d_full_view=true` "
    "pads the second conv and widens the last kernel to 6 so every pixel counts.",
    '''from gankit.models.dcgan import DCGANDiscriminator28

def seen(D):
    """The pixels whose value can change D's logit: where its input gradient is non-zero."""
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    D(x).sum().backward()
    return (x.grad[0, 0] != 0).float()

fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, full in zip(axes, (False, True)):
    mask = seen(DCGANDiscriminator28(hidden=8, bn=False, full_view=full))
    ax.imshow(mask, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{'full view' if full else 'the course D'}: {int(mask.sum())} of 784 pixels", fontsize=10)
    ax.set_xlabel("white: seen, black: blind")
    ax.set_xticks([0, 21, 27]); ax.set_yticks([0, 21, 27])
plt.show()''',
)

NOTEBOOKS["05-mlp-gan-and-dcgan"] = notebook(
    "# 5. The MLP GAN and DCGAN, and the alternating updates\n\n"
    "First the updates spelled out in plain PyTorch (a tiny MLP GAN on the bundled MNIST): "
    "one step of D on a real and a fake batch, then one step of G through D.",
    '''from gankit.data import load_data
real = load_data("mnist").images.flatten(1)                  # (10000, 784) in [-1, 1]
torch.manual_seed(0)
z_dim = 64
G = torch.nn.Sequential(torch.nn.Linear(z_dim, 256), torch.nn.ReLU(), torch.nn.Linear(256, 784), torch.nn.Tanh())
D = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.LeakyReLU(0.2), torch.nn.Linear(256, 1))
opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
bce = torch.nn.BCEWithLogitsLoss()
history = []
for step in range(small(300, 30)):
    x = real[torch.randint(len(real), (64,))]
    # D step: real -> 1, fake -> 0; the fake is detached so G is not updated here
    fake = G(torch.randn(64, z_dim))
    d_loss = bce(D(x), torch.ones(64, 1)) + bce(D(fake.detach()), torch.zeros(64, 1))
    opt_d.zero_grad(); d_loss.backward(); opt_d.step()
    # G step: make D call the fake real (the non-saturating loss), through D's weights
    g_loss = bce(D(fake), torch.ones(64, 1))
    opt_g.zero_grad(); g_loss.backward(); opt_g.step()
    history.append((d_loss.item(), g_loss.item()))
plt.plot(history, label=["D loss", "G loss"]); plt.xlabel("step"); plt.legend(); plt.show()
with torch.no_grad():
    gankit.show(G(torch.randn(16, z_dim)).view(-1, 1, 28, 28), nrow=8,
                title=f"plain PyTorch MLP GAN, step {step + 1}")''',
    "md: gankit's trainer does exactly this (`gankit.train.gan`: the same two steps, with "
    "`train.d_steps` D steps per G step). Train the course's MLP GAN (the default preset) and the DCGAN-28 "
    "for a few hundred steps through the Python API: each call is `gankit train`, with a run "
    "directory, `stats.jsonl` and a snapshot.",
    '''runs = {}
for preset in ("mlp-mnist", "dcgan-mnist"):
    runs[preset] = gankit.train(preset, {"train.steps": small(300, 20), "train.log_every": small(25, 5),
                                         "train.sample_every": small(100, 10), "train.report": False})
    print(preset, "->", runs[preset].dir)''',
    '''fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for ax, (preset, run) in zip(axes, runs.items()):
    rows = [r for r in run.stats if "d_loss" in r]
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["d_loss"] for r in rows], label="D loss")
    ax.plot(steps, [r["g_loss"] for r in rows], label="G loss")
    ax.plot(steps, [r["d_fake"] for r in rows], label="mean D(G(z))")
    ax.set_title(preset); ax.set_xlabel("step"); ax.legend(fontsize=7)
plt.show()
for preset, run in runs.items():
    gankit.show(run.sample(32, seed=0), nrow=8, title=f"{preset}, step {run.stats[-1]['step']}")''',
)

NOTEBOOKS["06-discriminator-too-strong"] = notebook(
    "# 6. A discriminator too strong: planting the failure, diagnosing it, fixing it\n\n"
    "Plant it: the saturating (minimax) G loss, and D learning 50 times faster than G "
    "(`optim.lr_d=0.01`), on the classic DCGAN optimiser (Adam 2e-4, betas (0.5, 0.999), no "
    "R1 penalty: the dcgan-mnist preset's R1 and faster Adam keep D from winning this way). "
    "gankit's health monitor checks the run every `health.every` steps and writes what it "
    "sees to `health.jsonl`.",
    '''classic = {"optim.lr_g": 2e-4, "optim.lr_d": 2e-4, "optim.beta1": 0.5, "optim.beta2": 0.999,
           "loss.r1_gamma": 0}
common = {**classic, "train.steps": small(300, 40), "train.log_every": small(20, 5),
          "health.every": small(25, 5), "health.patience": 2,
          "train.sample_every": small(200, 20), "train.report": False}
bad = gankit.train("dcgan-mnist", {**common, "loss.g_loss": "minimax", "optim.lr_d": 0.01})''',
    '''for record in bad.health:
    if "diagnosis" in record or record.get("active"):
        print(record.get("step"), record.get("diagnosis") or record.get("active"),
              "|", record.get("advice", ""))
diagnoses = [r for r in bad.health if "diagnosis" in r]
print(f"{len(diagnoses)} diagnosis line(s) in {bad.dir / 'health.jsonl'}")
for r in diagnoses:
    print(r)''',
    "md: The fix the advice gives: the non-saturating G loss and D's learning rate back to "
    "G's, on the same optimiser; beside it the preset's own recipe (non-saturating, an R1 "
    "penalty on D, Adam 1.6e-3 with betas (0, 0.99), an EMA of G). Same seed, same steps:",
    '''fixed = gankit.train("dcgan-mnist", common)                          # the advice
recipe = gankit.train("dcgan-mnist", {k: v for k, v in common.items() if k not in classic})
runs = {"planted: minimax, lr_d 0.01": bad, "advice: non-saturating, lr_d 2e-4": fixed,
        "the preset's recipe": recipe}
for name, run in runs.items():
    found = sorted({r["diagnosis"] for r in run.health if "diagnosis" in r})
    print(f"{name:36s} diagnoses: {', '.join(found) or 'none'}")
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for name, run in runs.items():
    rows = [r for r in run.stats if "d_fake" in r]
    axes[0].plot([r["step"] for r in rows], [r["d_fake"] for r in rows], label=name)
    axes[1].plot([r["step"] for r in rows], [r["g_grad"] for r in rows], label=name)
axes[0].set_title("mean D(G(z))"); axes[1].set_title("gradient norm reaching G")
for ax in axes:
    ax.set_xlabel("step"); ax.legend(fontsize=7)
plt.show()
for name, run in runs.items():
    gankit.show(run.sample(16), nrow=8, title=name)''',
    "md: With the advice D no longer wins outright: D(G(z)) stays well above 0 and G keeps "
    "its gradient. The monitor keeps watching for other failures (on this classic optimiser "
    "it may also flag mode collapse, whose advice is an R1 penalty or an EMA of G: what the "
    "preset's recipe adds).",
)

NOTEBOOKS["07-mode-collapse"] = notebook(
    "# 7. Mode collapse on the toy ring\n\n"
    "Eight Gaussians on a circle. A plain BCE GAN (`toy-ring-plain`) tends to cover some "
    "modes and miss others, or to drift between them; `toy-ring` adds an R1 penalty on D and "
    "an EMA of G. Measured as in VEEGAN: modes covered and the share of high-quality "
    "samples (within 3σ of a centre).",
    '''from gankit.data.toy import sample as toy_sample
from gankit.metrics import evaluate
_, _, centres, std = toy_sample("toy-ring", 1)
steps = small(1500, 60)
runs = {p: gankit.train(p, {"train.steps": steps, "train.log_every": small(100, 20),
                            "train.sample_every": small(500, 30), "train.report": False})
        for p in ("toy-ring-plain", "toy-ring")}''',
    '''n = small(2500, 500)
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (preset, run) in zip(axes, runs.items()):
    points = run.sample(n, seed=0)
    m = evaluate(run.generator, None, ["modes"], n=n)["metrics"]["modes"]
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.3)
    ax.scatter(centres[:, 0], centres[:, 1], marker="x", color="red")
    ax.set_title(f"{preset}: {m['modes_covered']}/{m['n_modes']} modes, "
                 f"{m['high_quality_pct']:.0f}% high quality", fontsize=9)
    ax.set_aspect("equal")
plt.show()''',
    "md: At the presets' full length (3,000 steps) the README's table reports 7/8 modes and "
    "33 % high quality for the plain GAN, 8/8 and 94 % for `toy-ring`; these short runs show "
    "the same direction less sharply.",
)

NOTEBOOKS["08-conditional-and-controllable"] = notebook(
    "# 8. Conditional generation, interpolation, truncation, controllable generation\n\n"
    "The shipped conditional DCGAN (`mnist-cdcgan`) takes a class with its noise.",
    '''g = gankit.load("mnist-cdcgan")
print(g.n_classes, "classes:", g.class_names)
gankit.show(g.generate(100, seed=0), nrow=10, row_labels=g.class_names)  # balanced: a class a row''',
    "md: Interpolation: slerp between two noise vectors at a fixed class, and the class "
    "vector moved from 3 to 8 at fixed noise.",
    '''from gankit.explore.latent import slerp, one_hot
za, zb = g.noise(1, seed=1)[0], g.noise(1, seed=2)[0]
ts = torch.linspace(0, 1, 10)
z_path = torch.stack([slerp(za, zb, float(t)) for t in ts])
gankit.show(g.render(z_path, torch.full((10,), 7)), nrow=10, title="class 7, seed 1 to seed 2 (slerp)")
y_path = torch.stack([(1 - t) * one_hot([3], 10)[0] + t * one_hot([8], 10)[0] for t in ts])
gankit.show(g.render(za.expand(10, -1), y_path), nrow=10, title="seed 1, class 3 to class 8")''',
    "md: Truncation: each row is the same 8 samples with z truncated to [-ψ, ψ] and scaled "
    "back to its own norm (G never saw a z much shorter than sqrt(z_dim)); small ψ evens out "
    "z's outlying coordinates for typical-looking digits. `truncate(z, psi, keep_norm=False)` "
    "is BigGAN's raw form, which squeezes every seed toward G(0).",
    '''psis = [0.25, 0.5, 1.0, 2.0, float("inf")]
rows = [g.generate(8, seed=0, y=5, psi=psi) for psi in psis]
gankit.show(torch.cat(rows), nrow=8,
            row_labels=["ψ = ∞" if psi == float("inf") else f"ψ = {psi:g}" for psi in psis])''',
    "md: Controllable generation on an unconditional G (`mnist-dcgan`): move z up the "
    "gradient of the MNIST evaluator's log-probability of a target class, with a penalty on "
    "how far z moves (what `gankit explore control` does).",
    '''from gankit.metrics.evaluator import load_evaluator
u = gankit.load("mnist-dcgan")
clf = load_evaluator("mnist").eval()
target, n = 7, small(16, 8)
z0 = u.noise(n, seed=0)
z = z0.clone().requires_grad_(True)
for _ in range(small(60, 15)):
    x = u.module.eval()(z)
    logp = torch.log_softmax(clf(x), dim=1)[:, target]
    objective = logp.sum() - 0.05 * ((z - z0) ** 2).sum()
    (grad,) = torch.autograd.grad(objective, z)
    with torch.no_grad():
        z += 0.1 * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-8)
before, after = u.render(z0), u.render(z.detach())
with torch.no_grad():
    hit = (clf(after).argmax(1) == target).float().mean()
print(f"classified as {target} after steering: {hit:.0%}")
gankit.show(torch.cat([before, after]), nrow=n, row_labels=["before", f"to {target}"])''',
)

NOTEBOOKS["09-fgsm"] = notebook(
    "# 9. Adversarial examples: FGSM on the evaluator and on a GAN's discriminator\n\n"
    "FGSM (Goodfellow et al. 2015): $x' = x + \\epsilon\\,\\mathrm{sign}(\\nabla_x J)$. "
    "ε is on the [0, 1] pixel scale (gankit's [-1, 1] images move by 2ε).",
    '''from gankit.robust.attacks import fgsm, predict
from gankit.robust.targets import load_target
target = load_target("mnist", n=small(1000, 200))
eps_list = [0.0, 0.05, 0.1, 0.2, 0.3]
def accuracy_curve(model, x, y):
    return [(predict(model, fgsm(model, x, y, e)) == y).float().mean().item() for e in eps_list]
acc = accuracy_curve(target.model, target.x, target.y)
for e, a in zip(eps_list, acc):
    print(f"eps {e:.2f}: accuracy {a:.1%}")
adv = fgsm(target.model, target.x[:8], target.y[:8], 0.2)
gankit.show(torch.cat([target.x[:8], adv, (adv - target.x[:8]).abs() - 1]), nrow=8,
            row_labels=["clean", "FGSM ε = 0.2", "|difference|"])''',
    "md: A GAN's discriminator is a real/fake classifier too. Train a short run, then ask "
    "how many real images FGSM makes it call fake.",
    '''run = gankit.train("dcgan-mnist", {"train.steps": small(200, 20), "train.sample_every": small(100, 10),
                                   "train.report": False})
d_target = load_target(str(run.dir), n=small(1000, 200))
d_acc = accuracy_curve(d_target.model, d_target.x, d_target.y)
for e, a in zip(eps_list, d_acc):
    print(f"eps {e:.2f}: D calls {a:.1%} of real images real")''',
    "md: Adversarial training (small): a little CNN trained on half clean, half FGSM "
    "examples at ε = 0.2, beside the same CNN trained on clean data only.",
    '''from gankit.data import load_data
data = load_data("mnist")
n_train = small(4000, 512)
x_train, y_train = data.images[:n_train], data.labels[:n_train]
x_test, y_test = target.x, target.y
def small_cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, 2, 1), torch.nn.ReLU(),
                               torch.nn.Conv2d(16, 32, 3, 2, 1), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10))
models = {}
for name, adversarial in (("standard", False), ("adversarial", True)):
    model = small_cnn()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for epoch in range(small(2, 1)):
        for i in range(0, n_train, 64):
            x, y = x_train[i:i + 64], y_train[i:i + 64]
            loss = torch.nn.functional.cross_entropy(model(x), y)
            if adversarial:
                x_adv = fgsm(model, x, y, 0.2)
                loss = 0.5 * loss + 0.5 * torch.nn.functional.cross_entropy(model(x_adv), y)
            opt.zero_grad(); loss.backward(); opt.step()
    models[name] = model.eval()
for name, model in models.items():
    curve = accuracy_curve(model, x_test, y_test)
    print(f"{name:12s}", "  ".join(f"eps {e:.2f}: {a:.0%}" for e, a in zip(eps_list, curve)))''',
    "md: `gankit attack train --adv fgsm-rs` does this at full size; "
    "`benchmarks/robust.py` measures it.",
)

NOTEBOOKS["10-vae-beside-gan"] = notebook(
    "# 10. A VAE beside a GAN: samples, FID, sharpness, recall\n\n"
    "gankit trains a convolutional VAE with the same run directory as a GAN; its decoder is "
    "the generator snapshot, so the same metrics apply. Here a short VAE run beside the "
    "shipped DCGAN (`mnist-dcgan`).",
    '''vae = gankit.train("vae-mnist", {"train.steps": small(400, 30), "train.log_every": small(50, 10),
                                 "train.sample_every": small(200, 15), "train.report": False})
rows = [r for r in vae.stats if "loss" in r]
plt.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="-ELBO")
plt.plot([r["step"] for r in rows], [r["recon"] for r in rows], label="reconstruction")
plt.plot([r["step"] for r in rows], [r["kl"] for r in rows], label="KL")
plt.xlabel("step"); plt.ylabel("nats per image"); plt.legend(); plt.show()''',
    '''from gankit.metrics import evaluate
gan = gankit.load("mnist-dcgan")
n = small(2000, 300)
for name, g in (("VAE (short run)", vae.generator), ("GAN (mnist-dcgan)", gan)):
    gankit.show(g.generate(32, seed=0), nrow=8, title=name)
    m = evaluate(g, None, ["fid", "pr", "sharpness"], n=n)["metrics"]
    print(f"  FID {m['fid']:.1f}  precision {m['precision']:.2f}  recall {m['recall']:.2f}  "
          f"sharpness {m['sharpness']:.4f} (real {m['sharpness_real']:.4f})")''',
    "md: The VAE's samples are blurrier (its sharpness falls well below the real data's): "
    "the Gaussian decoder averages over what it is unsure of. The GAN's are sharper. "
    "With few samples FID is biased upward; compare numbers at equal n only. "
    "`benchmarks/vae_vs_gan.py` measures both at full length.",
)


NOTEBOOKS["11-video-generation"] = notebook(
    "# 11. Video generation: TGAN on Moving MNIST\n\n"
    "A video GAN draws a whole clip from one noise vector. TGAN (Saito et al. 2017) splits G "
    "in two: a *temporal generator* of 1D transposed convolutions turns z into T latent frame "
    "vectors z_t, and an *image generator* draws frame t from (z, z_t), the same network for "
    "every frame. D judges the whole clip with 3D convolutions. The data: Moving MNIST "
    "(Srivastava et al. 2015), digits bouncing around a black canvas, synthesised here from "
    "the bundled MNIST digits.",
    "## Real clips",
    '''from gankit.data.video import moving_mnist
videos, labels = moving_mnist(8, frames=16, size=32, digits=1, seed=0)   # uint8 (8, 16, 32, 32)
clips = torch.from_numpy(videos).unsqueeze(1).float() / 127.5 - 1        # (N, C, T, H, W) in [-1, 1]
print("clips", tuple(clips.shape), "digits", labels[:, 0].tolist())
gankit.show(clips, nrow=4)                                               # an animated GIF grid
fig, axes = plt.subplots(2, 8, figsize=(10, 2.6))                        # one clip, frame by frame
for t, ax in enumerate(axes.flat):
    ax.imshow(videos[0, t], cmap="gray"); ax.set_title(f"t={t}", fontsize=8); ax.axis("off")
plt.show()''',
    "md: Each digit starts at a uniform position and direction, moves at a fixed speed and "
    "bounces off the walls; its identity never changes. A good video G must keep both: the "
    "same digit in every frame, and smooth motion.",
    "## The two halves of G, and D",
    '''from gankit.models.video import TGANGenerator, VideoDiscriminator
shape = (1, 16, 32, 32)                                   # (C, T, H, W)
G, D = TGANGenerator(shape, z_dim=64, hidden=32), VideoDiscriminator(shape, hidden=32, frame_branch=True)
z = torch.randn(2, 64)
z_t = G.temporal(z)                                       # (B, T, Zt): one latent vector per frame
x = G(z)                                                  # (B, C, T, H, W)
print("z", tuple(z.shape), "-> z_t", tuple(z_t.shape), "-> clips", tuple(x.shape), "-> D", tuple(D(x).shape))
print(f"G {sum(p.numel() for p in G.parameters()):,} parameters, D {sum(p.numel() for p in D.parameters()):,}")''',
    "md: Nothing in TGAN's G keeps the digit the same from frame to frame: z_t may change *what* "
    "is drawn as well as *where*, and on this CPU TGAN's G learned exactly that, strokes that "
    "turn from one digit into another. `model.motion=warp` builds the prior in: the image "
    "generator draws the clip's content once, from z alone, and frame t is that image moved by "
    "an offset (a spatial transformer: `F.affine_grid` and `F.grid_sample`): it starts where z "
    "says and moves by a step read from each z_t, folded back at the walls as the data's digits "
    "bounce (a triangle wave, which unlike tanh never saturates). The content cannot change, "
    "only its place.",
    '''from gankit.models.video import fold, translate
W = TGANGenerator(shape, z_dim=64, hidden=32, motion="warp")
content = W.image(z)                                      # (B, C, H, W): drawn once per clip
step = W.step(W.temporal(z))                              # (B, T, 2): how far it moves in each frame
shift = fold(W.start(z).unsqueeze(1) + step.cumsum(1) - step[:, :1], W.reach)  # (B, T, 2) half-sides
x = translate(content, shift)                             # (B, C, T, H, W), the same as W(z)
print("content", tuple(content.shape), "+ shifts", tuple(shift.shape), "-> clips", tuple(x.shape))
one = -torch.ones(1, 1, 32, 32); one[..., 12:20, 14:18] = 1  # a bar, moved 8 px right over 4 frames
gankit.show(translate(one, torch.tensor([[[k / 8, 0.0] for k in range(4)]])), nrow=1)''',
    "md: A G trained from scratch on this CPU still drew many digits badly (its clips: "
    "`docs/benchmarks.md`). The small preset therefore takes its content from a shipped image "
    "generator, as MoCoGAN-HD (Tian et al. 2021) does: `model.content=mnist-cdcgan`, frozen, its "
    "digit resized to the data's 14 pixels, its class read from z. Only the motion is learned, "
    "in whole pixels as the data's digits move (`model.whole_pixels`, rounded forward and "
    "straight-through backward). With warp's per-frame steps that motion collapsed to one "
    "jerky path for every clip, so the preset uses `model.motion=bounce`: a start, a speed and "
    "a direction read from z, a straight line folded at the walls, the data's own physics with "
    "its parameters learned. Untrained, its digits are already digits and barely move:",
    '''P = TGANGenerator(shape, z_dim=64, hidden=32, motion="bounce", content="mnist-cdcgan",
                  content_side=14, whole_pixels=True).eval()
print("trainable:", sum(p.numel() for p in P.parameters() if p.requires_grad), "of",
      sum(p.numel() for p in P.parameters()), "parameters")
gankit.show(P(torch.randn(4, 64)).detach(), nrow=4)''',
    "## A short run",
    "md: The small preset (16 frames of 32x32, one digit) trains with the same alternating "
    "update as any GAN: a clip is one sample to D. Its digits are mnist-cdcgan's from the "
    "first step; a hundred steps only begin to set their speeds and directions. The shipped "
    "generator below trained for 35 minutes.",
    '''run = gankit.train("tgan-moving-mnist-small", {"train.steps": small(120, 4), "train.log_every": small(20, 2),
                                               "train.sample_every": small(60, 2), "train.n_samples": 4,
                                               "train.report": False})
rows = [r for r in run.stats if "d_loss" in r]
plt.plot([r["step"] for r in rows], [r["d_loss"] for r in rows], label="D (hinge)")
plt.plot([r["step"] for r in rows], [r["g_loss"] for r in rows], label="G")
plt.xlabel("step"); plt.legend(); plt.show()
gankit.show(run.sample(4, seed=0), nrow=4)''',
    "## The shipped generator, measured",
    '''from gankit.metrics import evaluate
g = gankit.load("moving-mnist-tgan")
print(g.card["card"]["what"], "-", g.card["card"]["steps"], "steps")
gankit.show(g.generate(16, seed=0), nrow=4)
m = evaluate(g, None, ["frame_fid", "identity", "motion"], n=small(300, 24))["metrics"]
print(f"per-frame FID {m['frame_fid']:.1f} (real vs real {m['frame_fid_real']:.1f})")
print(f"identity consistency {m['identity']:.0%} (real clips {m['identity_real']:.0%})")
print(f"motion {m['motion']:.2f} px/frame (real clips {m['motion_real']:.2f})")''',
    "md: **Per-frame FID** compares single frames with real frames in the frame evaluator's "
    "feature space; it says nothing about time. **Identity consistency** is the share of clips "
    "whose predicted digit set is the same in every frame (a digit that morphs fails). "
    "**Motion** is how far the ink's centre moves per frame: 0 for a still clip, far above the "
    "real value for flicker.",
    "## What the measures catch",
    '''from gankit.metrics.video import identity_consistency, judge_frames, load_frame_evaluator, motion
net, _ = load_frame_evaluator()
still = clips[:1, :, :1].expand(-1, -1, 16, -1, -1)      # frame 0 held for 16 frames
other = next(i for i in range(len(labels)) if labels[i, 0] != labels[0, 0])  # another digit
swapped = torch.cat([clips[:1, :, :8], clips[other:other + 1, :, 8:]], dim=2)  # changes at t = 8
for name, c in (("real clip", clips[:1]), ("still clip", still), ("digit swapped mid-way", swapped)):
    probs = judge_frames(net, c)["probs"]
    print(f"{name:22s} motion {motion(c):.2f} px/frame, identity consistent: "
          f"{identity_consistency(probs) == 1.0}")''',
    "md: `gankit sample --pretrained moving-mnist-tgan --out clips.gif` writes the same GIF "
    "grid from the command line; `gankit eval --pretrained moving-mnist-tgan` prints the three "
    "measures; `benchmarks/video.py` records them in docs/benchmarks.md.",
)

NOTEBOOKS["12-your-own-images"] = notebook(
    "# 12. Your own images: a conditional DCGAN on a colour folder\n\n"
    "Everything so far trained on MNIST-like arrays. gankit also trains on a folder of your "
    "own pictures (.png, .jpg) laid out as torchvision's `ImageFolder`: one subfolder per "
    "class, `data.name=folder`, `data.path=PATH`. The preset `cdcgan32-folder` is a "
    "conditional DCGAN at 32x32 that takes the folder's classes (`model.n_classes=-1`: as "
    "many as there are subfolders, recorded in the run's config). Here: emoji-64, 3,812 "
    "emoji in 9 categories (Noto Emoji, Apache 2.0, Google; Twemoji, CC-BY 4.0, Twitter, Inc "
    "and other contributors; packaging emoji-datasource, MIT), from the course's shared data "
    "beside the repository, or `GANKIT_EMOJI=PATH`. Without it the notebook draws a small "
    "folder of coloured shapes itself, so it runs anywhere.",
    '''import random
import tempfile
from pathlib import Path
from PIL import Image, ImageDraw

def make_shapes(root, per_class=60):
    """A small labelled folder: RGBA PNGs of circles, squares and triangles, each in a random
    colour, size and place on a transparent background (a class per subfolder)."""
    rng = random.Random(0)
    for name in ("circles", "squares", "triangles"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            r, cx, cy = rng.randint(10, 22), rng.randint(24, 40), rng.randint(24, 40)
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
            im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
            draw = ImageDraw.Draw(im)
            if name == "circles":
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
            elif name == "squares":
                draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            im.save(root / name / f"{name}-{i:03d}.png")
    return root

repo = Path(gankit.__file__).resolve().parents[2]          # src/gankit/__init__.py -> the checkout
emoji = Path(os.environ.get("GANKIT_EMOJI", repo.parent / "shared" / "data" / "emoji-64"))
folder = emoji if emoji.is_dir() else make_shapes(Path(tempfile.gettempdir()) / "gankit-shapes")
print("the folder:", folder)''',
    '''from gankit.data.folder import find_images, folder_classes
files = find_images(str(folder))
labels, classes = folder_classes(str(folder), files)      # the first-level subfolders
print(f"{len(files):,} images in {len(classes)} classes")
for k, name in enumerate(classes):
    print(f"  {k}  {name:22s} {int((labels == k).sum()):5d}")''',
    "## Transparency: composited onto white, or kept",
    "md: Emoji are RGBA: a fourth channel, alpha, says how opaque each pixel is. By default "
    "(`data.background=white`) every image is composited onto white as a viewer shows it, "
    "and G draws 3 channels. `data.background=alpha` keeps transparency as a fourth channel "
    "(`data.channels` becomes 4): G then has to draw the alpha too, and gankit shows such images "
    "over a checkerboard, as image editors do. The colour under a fully transparent pixel "
    "means nothing (black here, once resized): the second row drops the alpha channel and "
    "shows what a G, or a metric, that ignored alpha would take for the picture.",
    '''from gankit.data.base import to_unit_range
from gankit.data.folder import load_image
some = [files[i] for i in torch.linspace(0, len(files) - 1, 12).long()]       # across the classes
white = to_unit_range(torch.stack([load_image(f, 32, 3) for f in some]))        # (12, 3, 32, 32)
kept = to_unit_range(torch.stack([load_image(f, 32, 4, "alpha") for f in some])) # (12, 4, 32, 32)
gankit.show(torch.cat([white, kept[:, :3]]), nrow=12, row_labels=["on white", "alpha ignored"])
gankit.show(kept, nrow=12, title="data.background=alpha: RGBA, over a checkerboard")
clear = (kept[:, 3] == -1).float().mean()
print(f"{clear:.0%} of these pixels are fully transparent")''',
    "## Training cdcgan32-folder",
    "md: The same call as for MNIST, with the folder's path. The folder is read once into "
    "memory (a folder bigger than `data.stream_mb` is streamed from disk instead), and 15 % "
    "of it is held out for measuring (a hash of each file's path picks them, so the split "
    "never changes). The recipe is the DCGAN paper's networks for 32 pixels, 32 wide, with "
    "Adam at 8e-4 and beta1 = 0, found by a short search on emoji-64 (docs/benchmarks.md, "
    "issue 26; DiffAugment, `train.diffaugment`, cost more than it gave at these lengths). "
    "A few hundred steps give coloured shapes on white with a hint of each class; the "
    "shipped generator below trained for an hour.",
    '''run = gankit.train("cdcgan32-folder", {"data.path": str(folder), "train.steps": small(600, 8),
                                       "train.log_every": small(50, 2), "train.sample_every": small(300, 4),
                                       "train.report": False})
rows = [r for r in run.stats if "d_loss" in r]
plt.plot([r["step"] for r in rows], [r["d_loss"] for r in rows], label="D")
plt.plot([r["step"] for r in rows], [r["g_loss"] for r in rows], label="G")
plt.xlabel("step"); plt.legend(); plt.show()
print("classes:", run.generator.class_names)
gankit.show(run)                                          # 8 of each class, a row per class''',
    "## The shipped emoji-cdcgan, class by class",
    '''from gankit import pretrained
if "emoji-cdcgan" in pretrained.names():
    g = gankit.load("emoji-cdcgan")
    card = g.card["card"]
    print(f"{card['what']}: {card['steps']:,} steps of {card['preset']}")
    print(card.get("attribution", ""))
    gankit.show(g)                                        # 8 of each class, a row per class
    gankit.show(g.generate(12, seed=0, y="smileys-and-emotion"), nrow=12,
                title="class smileys-and-emotion, seeds 0..11")
else:
    g = run.generator
    print("emoji-cdcgan is not in this install (scripts/train_pretrained.py emoji-cdcgan "
          "makes it): the pictures below use the short run above")''',
    "md: Interpolation: slerp between two seeds' noise at a fixed class, then the class "
    "vector moved from one category to another at fixed noise (what `gankit explore interp` "
    "and `gankit explore classes` write as GIFs).",
    '''from gankit.explore.pictures import class_interpolation_images, latent_interpolation_images
names = g.class_names
a = names.index("smileys-and-emotion") if "smileys-and-emotion" in names else 0
b = names.index("animals-and-nature") if "animals-and-nature" in names else len(names) - 1
steps = 10
gankit.show(latent_interpolation_images(g, 1, 2, steps, y=a), nrow=steps,
            title=f"{names[a]}: seed 1 to seed 2 (slerp)")
gankit.show(class_interpolation_images(g, 0, a, b, steps), nrow=steps,
            title=f"seed 0: {names[a]} to {names[b]}")''',
    "## Measuring: the folder's own evaluator, and what FID means here",
    "md: FID compares the statistics of two sets of images in some network's features. For "
    "MNIST and Fashion-MNIST gankit uses a small CNN trained on the data set (the *evaluator*); "
    "InceptionV3's ImageNet features are the usual lens in papers, but their weights cannot be "
    "fetched offline and a few thousand emoji are not ImageNet. So a labelled folder gets an "
    "evaluator of its own: `gankit evaluator train --data PATH` trains the same small CNN to "
    "name the folder's classes on its training split and measures it on the held-out 15 %. It "
    "is stored by the folder's *content* (a hash of every file), so a copy elsewhere finds it "
    "and an edited folder does not use a stale one; the one for emoji-64 ships with gankit. "
    "`gankit eval RUN` then gives FID, KID, precision/recall, class coverage and, for a "
    "conditional G, `class_acc`: the evaluator's accuracy on the samples G drew for each class.",
    '''from gankit.metrics import evaluate, folder_evaluator
found = folder_evaluator.find(str(folder))
if found is None and folder != emoji:   # the shapes: seconds to train, cached by their content
    folder_evaluator.train(str(folder), epochs=20, log=lambda line: None, show_progress=False)
    found = folder_evaluator.find(str(folder))
if found is None:
    print(f"no evaluator for {folder} as it is now: gankit evaluator train --data {folder}")
else:
    stem, ev = found
    print(f"evaluator {stem.name}: held-out accuracy {ev['test_accuracy']:.0%} on "
          f"{ev['split']['n_test']} images; FID of its train split vs the held-out split "
          f"{ev['real_vs_real_fid']:.1f}")
    n = small(2000, 100)
    if g is not run.generator:  # its card names the folder by name only: this is where it is
        g.card["data"] = {**g.card["data"], "path": str(folder)}   # (gankit eval --data PATH)
    for name, gen in {"short run": run.generator, "emoji-cdcgan": g}.items():
        if name == "emoji-cdcgan" and g is run.generator:
            continue
        m = evaluate(gen, None, ["fid", "coverage", "class_acc"], n=n)["metrics"]
        print(f"{name:13s} FID {m['fid']:7.1f}   classes covered {m['coverage']['covered']}/"
              f"{m['coverage']['n_classes']}   class accuracy {m['class_acc']['overall']:.0%}")''',
    "md: How to read these numbers:\n\n"
    "- **FID here is in the folder evaluator's 128 features**, against the held-out split "
    "(608 images of emoji-64). It is not the Inception FID of papers, and numbers from two folders (two "
    "evaluators) cannot be compared; only generators measured on the same folder can.\n"
    "- **Its floor is not 0**: the evaluator's own train split scores the real-vs-real FID "
    "printed above against the held-out split. A perfect generator lands near that, not at 0.\n"
    "- **Few samples bias FID upward** (here a few hundred or thousand; the shipped card "
    "uses 10,000 samples): compare numbers at equal n.\n"
    "- **Class accuracy is capped by the evaluator**: it names the held-out *real* emoji "
    "correctly only about two times in three (many emoji could sit in two categories), so a "
    "generator's class accuracy near that is as good as this judge can say.\n\n"
    "From the command line:\n\n"
    "```\n"
    "gankit train --preset cdcgan32-folder --set data.path=PATH     # your folder\n"
    "gankit evaluator train --data PATH                             # once per folder\n"
    "gankit eval RUN_DIR                                            # FID, KID, PR, coverage, class_acc\n"
    "gankit eval --pretrained emoji-cdcgan --data PATH/emoji-64     # the shipped one, where the folder is\n"
    "gankit explore grid --pretrained emoji-cdcgan --out grid.png   # class x seed\n"
    "gankit serve --pretrained emoji-cdcgan                         # explore it in the browser\n"
    "```\n\n"
    "Weights trained on emoji-64 keep its attribution beside them (emoji-cdcgan's card has "
    "it under `card.attribution`).",
)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, nb in NOTEBOOKS.items():
        nbformat.validate(nb)
        nbformat.write(nb, OUT / f"{name}.ipynb")
        print(f"wrote notebooks/{name}.ipynb")


if __name__ == "__main__":
    main()
