"""Standard Inception FID for any image data, from InceptionV3 weights the user provides.

The network is torch-fidelity's port of the TensorFlow FID Inception (through torchmetrics),
so values are comparable with published FIDs. gankit ships no Inception weights and never
downloads them: the user passes the file.

torch-fidelity unpickles a weights path with weights_only=False, which would run any code
pickled in the file. So the user's file is read here first with `weights_only=True`
(or as safetensors), and torch-fidelity only ever loads a tensors-only copy written by us.
"""

import hashlib
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file

from gankit.errors import GankitError

WEIGHTS_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
               "weights-inception-2015-12-05-6726825d.pth")
HOW_TO_GET = (f"download {WEIGHTS_URL} (torch-fidelity's FID InceptionV3) and pass "
              "--inception-weights PATH")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_inception(weights: str | None):
    """InceptionV3 pool3 (2048 features) from a .pth or .safetensors file, in eval mode."""
    if not weights:
        raise GankitError(f"inception_fid needs InceptionV3 weights: {HOW_TO_GET}")
    path = Path(weights)
    if not path.is_file():
        raise GankitError(f"--inception-weights {weights} does not exist: {HOW_TO_GET}")
    try:
        if path.suffix == ".safetensors":
            state = load_file(path)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any unreadable file means the same thing to the user
        raise GankitError(f"--inception-weights {weights} could not be read as tensors "
                          f"({type(e).__name__}): {HOW_TO_GET}") from None
    from torchmetrics.image.fid import NoTrainInceptionV3  # a second to import: only on use
    with tempfile.TemporaryDirectory() as tmp:
        safe = Path(tmp) / "inception.pth"
        torch.save(state, safe)
        try:
            net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"],
                                     feature_extractor_weights_path=str(safe))
        except RuntimeError as e:
            raise GankitError(f"--inception-weights {weights} are not FID InceptionV3 weights "
                              f"({str(e).splitlines()[0]}): {HOW_TO_GET}") from None
    return net.eval(), sha256(path)


@torch.no_grad()
def inception_features(net, images: torch.Tensor, batch_size: int = 50) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, 2048). Inception takes uint8 RGB and resizes to 299."""
    out = []
    for x in images.split(batch_size):
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        out.append(net(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)).double())
    return torch.cat(out)
