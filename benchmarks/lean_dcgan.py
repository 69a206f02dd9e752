"""The loop a practitioner writes instead of the course's: the lean twin `gankit train` races.

    python benchmarks/lean_dcgan.py --preset dcgan-course-exact --steps 300
    python benchmarks/lean_dcgan.py --preset dcgan32-folder --data ../shared/data/emoji-64

pytorch/examples' DCGAN style with the preset's own layers and settings (built by
`gankit.models.build_models` from the preset, so both sides run the same networks, on the
same images that gankit trains on; as torch's own modules, `as_torch_layers`: every
transposed conv an nn.ConvTranspose2d, some of which gankit computes as matrix products): batches indexed straight
from one tensor in a shuffled order, one G(z) per step whose graph is reused for G's update (D is not frozen: its parameter
gradients are computed there and zeroed at the next step, as the example does), BCE on logits
with the non-saturating G loss, Adam with the preset's learning rates and betas, the preset's
EMA of G (one `torch._foreach_lerp_`, as a practitioner who knows torch writes it) and its
conditional labels, torch's default threads and OpenMP wait, nothing written but a final
sample grid. No statistics, no health checks, no checkpoints: what gankit does beyond this
is gankit's cost to carry.
"""

import argparse
import copy
import time

import torch
import torch.nn.functional as F
from torchvision.utils import save_image

from gankit.config import apply_overrides, load_preset
from gankit.models import build_models
from gankit.models.blocks import as_torch_layers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="dcgan-course-exact")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--data", default="", help="data.path (a folder preset's images)")
    ap.add_argument("--out", default="lean-samples.png")
    args = ap.parse_args()
    cfg = load_preset(args.preset)
    if args.data:
        cfg = apply_overrides(cfg, [f"data.path={args.data}"])
    data = cfg.data.load(stream=False)
    images = data.images                                   # (N, C, H, W) in [-1, 1]
    n_classes = len(data.class_names) if cfg.model.n_classes == -1 else cfg.model.n_classes
    labels = data.labels.long() if n_classes else None
    if n_classes:
        cfg = apply_overrides(cfg, [f"model.n_classes={n_classes}"])
    t, o = cfg.train, cfg.optim
    assert cfg.loss.d_loss == "bce" and t.d_steps == 1, "the lean twin is BCE, one D step"

    start = time.perf_counter()
    torch.manual_seed(t.seed)
    G, D = map(as_torch_layers, build_models(cfg.model, data.shape)[:2])  # torch's own layers
    opt_g = torch.optim.Adam(G.parameters(), lr=o.lr_g, betas=(o.beta1, o.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=o.lr_d, betas=(o.beta1, o.beta2))
    G_ema = copy.deepcopy(G).requires_grad_(False) if t.ema_decay > 0 else None
    bce = F.binary_cross_entropy_with_logits
    b, order, at = t.batch_size, torch.randperm(len(images)), 0
    for step in range(1, args.steps + 1):
        if at + b > len(order):
            order, at = torch.randperm(len(images)), 0
        idx = order[at:at + b]
        at += b
        real = images[idx]
        y_real = labels[idx] if n_classes else None
        y_fake = torch.randint(n_classes, (b,)) if n_classes else None
        fake = G(torch.randn(b, cfg.model.z_dim), y_fake)

        opt_d.zero_grad()
        real_logits, fake_logits = D(real, y_real), D(fake.detach(), y_fake)
        loss_d = (bce(real_logits, torch.ones_like(real_logits))
                  + bce(fake_logits, torch.zeros_like(fake_logits)))
        loss_d.backward()
        opt_d.step()

        opt_g.zero_grad()
        logits = D(fake, y_fake)
        loss_g = bce(logits, torch.ones_like(logits))
        loss_g.backward()
        opt_g.step()
        if G_ema is not None:  # TensorFlow's ramped decay, as gankit's ema_decay has
            decay = min(t.ema_decay, step / (9 + step))
            ema, cur = list(G_ema.parameters()), list(G.parameters())
            torch._foreach_lerp_(ema, cur, 1 - decay)
            for e, c in zip(G_ema.buffers(), G.buffers()):
                e.copy_(c)

    final = G_ema if G_ema is not None else G
    final.eval()
    with torch.no_grad():
        y = torch.arange(64) % n_classes if n_classes else None
        save_image(final(torch.randn(64, cfg.model.z_dim), y) * 0.5 + 0.5, args.out, nrow=8)
    print(f"{step} steps in {time.perf_counter() - start:.1f} s; D {loss_d.item():.3f} "
          f"G {loss_g.item():.3f}")


if __name__ == "__main__":
    main()
