"""pytorch/examples' dcgan/main.py, written plainly: the baseline `gankit train` is timed against.

    python benchmarks/plain_dcgan64.py --data FOLDER --steps 300
    python benchmarks/plain_dcgan64.py --data FOLDER --size 32 --seconds 600 --white \
        --snapshots 120,300,600 --snapshot-dir DIR        # the folder benchmark's peer

With --size 32 (or 128) the pair is the same family built for that side (`model.name=dcgan`,
widths 64 as main.py's ngf/ndf), as main.py does when its --imageSize changes the layers.
--white composites transparent PNGs onto white (ImageFolder's loader would convert RGBA to
RGB, showing whatever colour transparent pixels store). --preload decodes the folder once into
a tensor (counted in the time) and indexes shuffled batches from it: on 2 CPU cores the
DataLoader's two decoding workers take cores from the training step. --seconds stops on wall time instead
of --steps; --snapshots writes G, in gankit's snapshot format (`gankit eval` reads it), into
DIR/t-SECONDS after that many seconds of training (the writing is not counted).

FOLDER is what torchvision's ImageFolder reads: one level of subfolders holding the images
(FOLDER/all/*.png will do). The loop is main.py's: an ImageFolder with Resize, CenterCrop,
ToTensor and Normalize to [-1, 1], a shuffled DataLoader (`--workers`, 2 as in main.py),
cudnn.benchmark on, Adam at 2e-4 with betas (0.5, 0.999), batch 64, and per batch: D's
update on the real batch, then on G(z).detach(), then G's update on that same G(z) through D.
The networks are the DCGAN paper's 64x64 pair built by gankit (`gankit.models.build_models`
with the `dcgan64-folder` preset's model section, as torch's own modules: `as_torch_layers`),
so both sides run the same layers; gankit's D gives logits (B,), hence BCEWithLogitsLoss where main.py has a Sigmoid and BCELoss. float32,
no autocast, no channels_last, no compile. main.py's per-step loss print and its sample grids
every 100 batches are left out; one sample grid is written at the end (`--out`).

It prints "N steps in S s, X img/s": S is the whole training loop, X the images of the steps
after the first divided by their time (the first step holds the DataLoader workers' start and
cudnn's search, as gankit's first stats.jsonl window holds its warm-up).
"""

import argparse
import time
from pathlib import Path

import torch  # before gankit: gankit sets OMP_WAIT_POLICY when it is imported first
from torch import nn
from torchvision import datasets, transforms
from torchvision.utils import save_image

from gankit.config import ModelConfig
from gankit.models import build_models
from gankit.models.blocks import as_torch_layers

Z_DIM = 100
MODEL = dict(name="dcgan64", z_dim=Z_DIM, g_hidden=64, d_hidden=64)


def model_section(size: int) -> dict:
    return MODEL if size == 64 else dict(MODEL, name="dcgan")


def white_loader(path: str):
    """ImageFolder's loader, but transparency composited onto white (as a person sees it)."""
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", im.size, "white"), im).convert("RGB")


def build(device: torch.device, lr: float = 2e-4, beta1: float = 0.5, size: int = 64):
    """(netG, netD, optimizerG, optimizerD, criterion) on `device`; also G's kwargs."""
    netG, netD, g_kwargs = build_models(ModelConfig(**model_section(size)), (3, size, size))
    build.g_kwargs = g_kwargs
    netG, netD = as_torch_layers(netG).to(device), netD.to(device)  # torch's own layers
    optimizerD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
    return netG, netD, optimizerG, optimizerD, nn.BCEWithLogitsLoss()


def train_step(netG, netD, optimizerG, optimizerD, criterion, real: torch.Tensor):
    """One batch of main.py's loop; returns (errD, errG), not synchronised."""
    batch_size, device = real.size(0), real.device
    # (1) D: maximise log D(x) + log(1 - D(G(z)))
    netD.zero_grad()
    label = torch.full((batch_size,), 1.0, device=device)
    output = netD(real)
    errD_real = criterion(output, label)
    errD_real.backward()

    noise = torch.randn(batch_size, Z_DIM, 1, 1, device=device)
    fake = netG(noise)
    label.fill_(0.0)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    errD = errD_real + errD_fake
    optimizerD.step()

    # (2) G: maximise log D(G(z)), on the same fake batch
    netG.zero_grad()
    label.fill_(1.0)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    optimizerG.step()
    return errD, errG


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="ImageFolder root (one level of subfolders)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    ap.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="plain-samples.png", help="final sample grid")
    ap.add_argument("--size", type=int, default=64, help="image side (default 64)")
    ap.add_argument("--seconds", type=float, default=0.0, help="stop after this much wall "
                    "time of training instead of --steps")
    ap.add_argument("--white", action="store_true", help="composite transparency onto white")
    ap.add_argument("--preload", action="store_true", help="decode the folder once into a "
                    "tensor and index batches from it (the lean loop) instead of DataLoader "
                    "workers decoding every epoch (main.py's)")
    ap.add_argument("--snapshots", default="", help="comma-separated training seconds at "
                    "which to write G into --snapshot-dir/t-SECONDS")
    ap.add_argument("--snapshot-dir", default="plain-snapshots")
    args = ap.parse_args()
    if args.seconds:
        args.steps = 10 ** 9
    name = args.device
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    start = time.perf_counter()
    torch.manual_seed(args.seed)
    torch.backends.cudnn.benchmark = True
    extra = {"loader": white_loader} if args.white else {}
    dataset = datasets.ImageFolder(root=args.data, **extra, transform=transforms.Compose([
        transforms.Resize(args.size),
        transforms.CenterCrop(args.size),
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ]))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, shuffle=True,
                                             num_workers=args.workers)
    if args.preload:  # decode once, then batches indexed straight from a tensor
        preloaded = torch.stack([x for x, _ in dataset])          # (N, 3, S, S)

        def batches():
            for idx in torch.randperm(len(preloaded)).split(args.batch):
                if len(idx) == args.batch:                         # drop_last, as gankit does
                    yield preloaded[idx], None
        dataloader = type("Preloaded", (), {"__iter__": lambda self: batches()})()
    netG, netD, optimizerG, optimizerD, criterion = build(device, size=args.size)
    due = sorted(float(t) for t in args.snapshots.split(",") if t)
    paused = 0.0  # seconds spent writing snapshots, not counted as training

    def snapshot(at: float) -> None:
        from gankit.models.snapshot import save_snapshot
        netG.eval()
        (Path(args.snapshot_dir) / f"t-{at:g}").mkdir(parents=True, exist_ok=True)
        save_snapshot(Path(args.snapshot_dir) / f"t-{at:g}", netG, model_section(args.size)["name"],
                      build.g_kwargs, (3, args.size, args.size), None,
                      {"step": step, "data": {"name": "folder", "path": str(Path(args.data).resolve()),
                                              "image_size": args.size, "channels": 3,
                                              "background": "white" if args.white else "black"}})
        netG.train()

    step, images, t_first = 0, 0, None
    while step < args.steps:
        for real, _ in dataloader:
            real = real.to(device)
            errD, errG = train_step(netG, netD, optimizerG, optimizerD, criterion, real)
            step += 1
            trained = time.perf_counter() - start - paused
            while due and trained >= due[0]:
                p0 = time.perf_counter()
                snapshot(due.pop(0))
                paused += time.perf_counter() - p0
            if args.seconds and trained >= args.seconds:
                args.steps = step
            if step == 1:
                sync()
                t_first = time.perf_counter()
            else:
                images += real.size(0)
            if step == args.steps:
                break
    sync()
    end = time.perf_counter()
    rate = images / (end - t_first) if images else args.batch / (end - start)

    netG.eval()
    with torch.no_grad():
        save_image(netG(torch.randn(64, Z_DIM, 1, 1, device=device)) * 0.5 + 0.5, args.out,
                   nrow=8)
    for at in due:  # times the run did not reach: its last G
        snapshot(at)
    print(f"{step} steps in {end - start:.1f} s, {rate:.1f} img/s "
          f"(Loss_D {errD.item():.4f} Loss_G {errG.item():.4f})")


if __name__ == "__main__":
    main()
