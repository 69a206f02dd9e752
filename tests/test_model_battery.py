"""One battery for every architecture (diffusers' `ModelTesterMixin`): build tiny, forward
shapes of both networks (with labels when conditional), the generator snapshot's round trip,
determinism under a seed, and one update through the real trainer.

The cases are found, not listed: one per entry of the model registry (`ARCHITECTURES`; a
conditional twin where G takes classes; the any-size DCGAN at 32 and 64), and one per distinct
model section of the presets (the course nets, AC-GAN's head, projection D, spectral norm,
TGAN's bounce), each shrunk to widths of 4. A new model or preset is in the battery with no
edit here; `test_the_battery_covers_the_registry` fails if one could not be.
"""

import dataclasses
import json

import pytest
import torch

from gankit.config import Config, ModelConfig, load_preset, preset_names
from gankit.data.base import ImageData, ToyData
from gankit.data.video import VideoData
from gankit.models import ARCHITECTURES, build_models
from gankit.models.snapshot import load_snapshot, save_snapshot
from gankit.train.protocol import trainer_class

N_CLASSES, BATCH, WIDTH = 3, 4, 4


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    model: tuple      # ModelConfig's fields that differ from its defaults, as (key, value) pairs
    shape: tuple      # one sample: (C, H, W), (2,) or (C, T, H, W)

    @property
    def config(self) -> Config:
        cfg = Config()
        cfg.model = ModelConfig(**dict(self.model))
        cfg.train.batch_size = BATCH
        return cfg

    @property
    def conditional(self) -> bool:
        return dict(self.model).get("n_classes", 0) != 0


def tiny(model: dict) -> tuple:
    """A model section at widths of 4 (z as it was: a TGAN's content net fixes it); classes:
    N_CLASSES (a preset's -1 or 10 build the same layers)."""
    model = {**model, "g_hidden": WIDTH, "d_hidden": WIDTH}
    if model.get("n_classes"):
        model["n_classes"] = N_CLASSES
    defaults = dataclasses.asdict(ModelConfig())
    return tuple(sorted((k, v) for k, v in model.items() if v != defaults[k] or k == "name"))


def registry_cases() -> list[Case]:
    cases = []
    for name, arch in ARCHITECTURES.items():
        if arch.data == "points":
            shapes = [(2,)]
        elif arch.data == "video":
            shapes = [(1, 4, 8, 8)]                        # the least TGAN makes: 4 frames of 8x8
        elif arch.size:
            shapes = [(1, arch.size, arch.size)]
        else:
            shapes = [(3, 32, 32), (3, 64, 64)]            # any side 2^k: two of them
        takes_classes = "n_classes" in {*arch.G.config_args.values(), *arch.D.config_args.values()}
        for shape in shapes:
            for n_classes in (0, N_CLASSES) if takes_classes else (0,):
                suffix = f"-{shape[-1]}" if len(shapes) > 1 else ""
                cases.append(Case(f"{name}{suffix}{'-conditional' if n_classes else ''}",
                                  tiny({"name": name, "n_classes": n_classes}), shape))
    return cases


def preset_shape(cfg: Config) -> tuple:
    """One sample's shape for a preset's data, at 4 frames for video (no data is read)."""
    d = cfg.data
    if d.name.startswith("toy-"):
        return (2,)
    side = d.image_size or 28
    if d.name in ("moving-mnist", "video"):
        return (d.channels or 1, 4, side, side)
    return (d.channels or (3 if d.name == "folder" else 1), side, side)


def preset_cases() -> list[Case]:
    cases = []
    for name in preset_names():
        cfg = load_preset(name)
        cases.append(Case(name, tiny(dataclasses.asdict(cfg.model)), preset_shape(cfg)))
    return cases


def distinct(cases: list[Case]) -> list[Case]:
    seen, out = set(), []
    for case in cases:
        if (case.model, case.shape) not in seen:
            seen.add((case.model, case.shape))
            out.append(case)
    return out


CASES = distinct(registry_cases() + preset_cases())


def synthetic_data(case: Case, n: int = 2 * BATCH):
    """A tiny data object of the kind the trainer's batch source takes, seeded."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % N_CLASSES
    names = [f"c{i}" for i in range(N_CLASSES)]
    if len(case.shape) == 1:
        return ToyData(points=torch.randn(n, 2, generator=g), centres=torch.zeros(1, 2), std=1.0,
                       name="toy-ring", labels=torch.zeros(n, dtype=torch.long))
    if len(case.shape) == 4:
        return VideoData(torch.randint(0, 256, (n, *case.shape), generator=g, dtype=torch.uint8),
                         None, None, "moving-mnist")
    images = torch.rand(n, *case.shape, generator=g) * 2 - 1
    return ImageData(images=images, labels=labels, class_names=names, name="folder")


def build(case: Case, seed: int = 0):
    torch.manual_seed(seed)
    return build_models(case.config.model, case.shape)


def noise_and_labels(case: Case, G, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(BATCH, G.z_dim, generator=g)
    y = torch.randint(N_CLASSES, (BATCH,), generator=g) if case.conditional else None
    return z, y


def generate(case: Case, G, seed: int = 1) -> torch.Tensor:
    z, y = noise_and_labels(case, G, seed)
    with torch.no_grad():
        return G(z, y) if y is not None else G(z)


def test_the_battery_covers_the_registry():
    covered = {dict(c.model)["name"] for c in CASES}
    assert covered == set(ARCHITECTURES), f"no case for {set(ARCHITECTURES) - covered}"
    conditional = {dict(c.model)["name"] for c in CASES if c.conditional}
    takes = {n for n, a in ARCHITECTURES.items() if "n_classes" in a.G.config_args.values()}
    assert takes <= conditional, f"no conditional case for {takes - conditional}"
    sides = {c.shape[-1] for c in CASES if dict(c.model)["name"] == "dcgan"}
    assert {32, 64} <= sides
    assert {"dcgan-course", "cdcgan-fashion", "tgan-moving-mnist-small"} <= {c.id for c in CASES}


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request) -> Case:
    return request.param


def test_forward_shapes(case):
    G, D, _ = build(case)
    G.eval(), D.eval()
    x = generate(case, G)
    assert x.shape == (BATCH, *case.shape) and torch.isfinite(x).all()
    _, y = noise_and_labels(case, G)
    if ARCHITECTURES[dict(case.model)["name"]].kind == "vae":
        mu, logvar = D(x)                                  # the encoder: (B, Z) twice
        assert mu.shape == logvar.shape == (BATCH, G.z_dim)
        return
    with torch.no_grad():
        out = D(x, y) if y is not None else D(x)
    assert out.shape == (BATCH,) and torch.isfinite(out).all()


def test_snapshot_round_trip_gives_the_same_samples(case, tmp_path):
    G, _, g_kwargs = build(case)
    G.eval()
    names = [f"c{i}" for i in range(N_CLASSES)] if case.conditional else None
    save_snapshot(tmp_path, G, dict(case.model)["name"], g_kwargs, case.shape, names)
    G2, card = load_snapshot(tmp_path)
    assert card["kwargs"] == json.loads(json.dumps(g_kwargs))  # as JSON keeps them
    assert torch.equal(generate(case, G), generate(case, G2))


def test_same_seed_same_networks(case):
    (G1, D1, _), (G2, D2, _) = build(case, seed=3), build(case, seed=3)
    for a, b in ((G1, G2), (D1, D2)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    G1.eval(), G2.eval()
    assert torch.equal(generate(case, G1), generate(case, G2))
    G3, _, _ = build(case, seed=4)
    trained = [p for p in G3.parameters() if p.requires_grad]  # a frozen content net is loaded
    assert any(not torch.equal(p, q) for p, q in zip(trained, (p for p in G1.parameters()
                                                                if p.requires_grad)))


def test_one_training_step_moves_both_networks(case):
    cfg, data = case.config, synthetic_data(case)
    models = build(case)
    cls = trainer_class(cfg)
    cls.check(cfg, data, models)
    trainer = cls(cfg, data, torch.device("cpu"), models=models)
    G, D = models[0], models[1]
    before = {net: [p.detach().clone() for p in net.parameters() if p.requires_grad]
              for net in (G, D)}
    trainer.train_step()  # what it returns is the statistics' business, not this battery's
    for net, old in before.items():
        new = [p for p in net.parameters() if p.requires_grad]
        assert all(torch.isfinite(p).all() for p in new)
        assert any(not torch.equal(a, b) for a, b in zip(old, new)), \
            f"{type(net).__name__} did not change in one step"
    assert trainer.step == 1
