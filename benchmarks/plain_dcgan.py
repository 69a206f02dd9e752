"""The course's training loop, written plainly: the twin `gankit train` is timed against.

    python benchmarks/plain_dcgan.py --preset dcgan-course-exact --steps 300

The models are the preset's own (built by `gankit.models.build_models` from the preset's
`model` section, so both sides run the same layers; as torch's own modules,
`as_torch_layers`: every transposed conv an nn.ConvTranspose2d, as the course writes it);
everything else is the loop as the course's week-2 notebook writes it: a shuffled
DataLoader over the digits, D's update on G(z).detach() and a real batch, then G's update on
a second G(z') through D, BCE on logits, Adam with the preset's learning rates and betas,
torch's default threads, nothing written
but a final sample grid (as the course shows one at the end).
"""

import argparse
import json
import time
from importlib import resources

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.utils import save_image

from gankit.config import DataConfig, ModelConfig
from gankit.data.splits import split_indices
from gankit.models import build_models
from gankit.models.blocks import as_torch_layers


def course_loop(preset: dict, images: torch.Tensor, seed: int = 0):
    """The course's loop on `images` (N, 1, 28, 28) in [-1, 1], forever: yields
    (step, gen, disc_loss, gen_loss) after each step; the caller decides when to stop."""
    train, optim = preset.get("train", {}), preset.get("optim", {})
    batch_size, z_dim = train.get("batch_size", 128), preset["model"].get("z_dim", 64)
    lr_g, lr_d = optim.get("lr_g", 2e-4), optim.get("lr_d", 2e-4)
    betas = (optim.get("beta1", 0.5), optim.get("beta2", 0.999))
    dataloader = DataLoader(TensorDataset(images), batch_size=batch_size, shuffle=True,
                            drop_last=True)

    torch.manual_seed(seed)
    gen, disc, _ = build_models(ModelConfig(**preset["model"]), (1, 28, 28))
    gen = as_torch_layers(gen)
    gen_opt = torch.optim.Adam(gen.parameters(), lr=lr_g, betas=betas)
    disc_opt = torch.optim.Adam(disc.parameters(), lr=lr_d, betas=betas)
    criterion = nn.BCEWithLogitsLoss()

    step = 0
    while True:
        for (real,) in dataloader:
            cur_batch_size = len(real)
            disc_opt.zero_grad()
            fake = gen(torch.randn(cur_batch_size, z_dim))
            disc_fake_pred = disc(fake.detach())
            disc_fake_loss = criterion(disc_fake_pred, torch.zeros_like(disc_fake_pred))
            disc_real_pred = disc(real)
            disc_real_loss = criterion(disc_real_pred, torch.ones_like(disc_real_pred))
            disc_loss = (disc_fake_loss + disc_real_loss) / 2
            disc_loss.backward(retain_graph=True)
            disc_opt.step()

            gen_opt.zero_grad()
            fake_2 = gen(torch.randn(cur_batch_size, z_dim))
            disc_fake_pred = disc(fake_2)
            gen_loss = criterion(disc_fake_pred, torch.ones_like(disc_fake_pred))
            gen_loss.backward()
            gen_opt.step()
            step += 1
            yield step, gen, disc_loss, gen_loss


def load_preset_file(name: str) -> dict:
    return json.loads((resources.files("gankit") / "presets" / f"{name}.json").read_text())


def train_digits() -> torch.Tensor:
    """The bundled digits' train split (the 8,000 gankit trains on), (N, 1, 28, 28) in [-1, 1]."""
    with np.load(resources.files("gankit") / "data" / "bundled" / "mnist-10k.npz") as f:
        images = f["images"][split_indices("mnist", len(f["images"]))[0]]
    return torch.from_numpy(images).float().div(127.5).sub(1).unsqueeze(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="dcgan-course-exact")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--out", default="plain-samples.png")
    args = ap.parse_args()
    preset = load_preset_file(args.preset)
    assert DataConfig(**preset["data"]).name == "mnist" and not preset["data"].get("path")

    start = time.perf_counter()
    for step, gen, disc_loss, gen_loss in course_loop(preset, train_digits()):
        if step == args.steps:
            break
    gen.eval()
    z_dim = preset["model"].get("z_dim", 64)
    with torch.no_grad():
        save_image(gen(torch.randn(64, z_dim)) * 0.5 + 0.5, args.out, nrow=8)
    print(f"{step} steps in {time.perf_counter() - start:.1f} s; D {disc_loss.item():.3f} "
          f"G {gen_loss.item():.3f}")


if __name__ == "__main__":
    main()
