"""The conditional GAN: one-hot classes into G and D, labelled training, snapshots, grids."""

import json

import pytest
import torch

from gankit.config import ModelConfig, apply_overrides, load_preset
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.models import build_models
from gankit.models.dcgan import (DCGANDiscriminator28, DCGANDiscriminator64, DCGANGenerator28,
                                 DCGANGenerator64)
from gankit.models.mlp import MLPDiscriminator, MLPGenerator
from gankit.generator import Generator, default_labels
from gankit.training import run
from gankit.models.snapshot import load_snapshot

K = 10
CONDITIONAL = {  # name -> (G, D, image shape)
    "mlp": (lambda: MLPGenerator(z_dim=8, hidden=8, n_classes=K),
            lambda: MLPDiscriminator(hidden=8, n_classes=K), (1, 28, 28)),
    "dcgan28": (lambda: DCGANGenerator28(z_dim=8, hidden=4, upsample="resize", n_classes=K),
                lambda: DCGANDiscriminator28(hidden=4, n_classes=K), (1, 28, 28)),
    "dcgan64": (lambda: DCGANGenerator64(z_dim=8, channels=3, hidden=4, n_classes=K),
                lambda: DCGANDiscriminator64(channels=3, hidden=4, n_classes=K), (3, 64, 64)),
}


@pytest.mark.parametrize("name", list(CONDITIONAL))
def test_conditional_shapes_and_class_inputs(name):
    torch.manual_seed(0)
    make_g, make_d, shape = CONDITIONAL[name]
    G, D = make_g().eval(), make_d()
    assert G.n_classes == K and D.n_classes == K
    # The class enters as K extra inputs: z_dim + K for G, C + K channels (MLP: +K) for D.
    first_g = next(m for m in G.modules()
                   if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
    assert (first_g.in_features if hasattr(first_g, "in_features") else first_g.in_channels) == 8 + K
    first_d = next(m for m in D.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)))
    d_in = first_d.in_features if hasattr(first_d, "in_features") else first_d.in_channels
    assert d_in == (shape[0] * 28 * 28 + K if name == "mlp" else shape[0] + K)

    z, y = torch.randn(4, 8), torch.tensor([0, 3, 7, 9])
    x = G(z, y)
    assert x.shape == (4, *shape) and x.min() >= -1 and x.max() <= 1
    assert D(x, y).shape == (4,)
    # The label matters, and a float one-hot vector is the same as its index.
    assert not torch.allclose(G(z, torch.zeros(4, dtype=torch.long)), G(z, torch.ones(4, dtype=torch.long)))
    assert torch.allclose(G(z, torch.nn.functional.one_hot(y, K).float()), x)
    assert torch.allclose(D(x, torch.nn.functional.one_hot(y, K).float()), D(x, y))


@pytest.mark.parametrize("name", list(CONDITIONAL))
def test_bad_labels_are_refused(name):
    make_g, make_d, _ = CONDITIONAL[name]
    G = make_g()
    with pytest.raises(GankitError, match="conditional on 10 classes"):
        G(torch.randn(2, 8))
    with pytest.raises(GankitError, match="out of range"):
        G(torch.randn(2, 8), torch.tensor([0, 10]))
    with pytest.raises(GankitError, match="shape"):
        G(torch.randn(2, 8), torch.zeros(2, 3))


def test_n_classes_is_recorded_and_the_snapshot_rebuilds_a_conditional_g(tmp_path):
    cfg = apply_overrides(load_preset("cdcgan-mnist"),
                          ["train.steps=2", "train.batch_size=8", "model.g_hidden=4",
                           "model.d_hidden=4", "train.n_samples=20", "train.device=cpu",
                           "health.every=1"])  # the health probe samples a conditional G too
    run_dir, grid = run.start(cfg, str(tmp_path / "r"))
    meta = json.loads((run_dir / "generator.json").read_text())
    assert meta["kwargs"]["n_classes"] == 10 and meta["class_names"][7] == "7"
    G, _ = load_snapshot(run_dir)  # no training code: model name + kwargs
    assert G.n_classes == 10
    x = Generator(G, {}).generate(20, seed=1, y=7)
    assert x.shape == (20, 1, 28, 28)
    # One class per row: 10 rows of ceil(20 / 10) = 2 columns, drawn 3x, under a title strip
    # ("step 2") and beside a margin of class names.
    from PIL import Image
    from gankit import viz
    w, h = Image.open(grid).size
    assert h == 3 * (2 + 10 * 30) + viz.FONT_SIZE + 2 * viz.MARGIN and w > 3 * (2 + 2 * 30)


def test_trainer_feeds_real_labels_to_d_and_uniform_labels_to_fakes(tmp_path, monkeypatch):
    cfg = apply_overrides(load_preset("cgan-mnist"),
                          ["train.steps=1", "train.batch_size=256", "model.g_hidden=8",
                           "model.d_hidden=8", "train.device=cpu"])
    data = load_data("mnist")
    from gankit.training.gan import GANTrainer as Trainer
    t = Trainer(cfg, data, torch.device("cpu"))
    seen = []
    d_forward = t.D.forward
    monkeypatch.setattr(t.D, "forward", lambda x, y=None: seen.append((x, y)) or d_forward(x, y))
    t.train_step()
    (real, y_real), (_, y_fake), (_, y_g) = seen
    # The real batch is drawn with its own labels: find each image in the data set.
    idx = [int((data.images.flatten(1) == r.flatten()).all(1).nonzero()[0]) for r in real[:8]]
    assert torch.equal(y_real[:8], data.labels[idx])
    assert torch.equal(y_fake, y_g) and len(y_fake.unique()) > 5  # uniform over 10 classes


def test_conditional_resume_is_bit_identical(tmp_path):
    def tiny(steps):
        return apply_overrides(load_preset("cdcgan-mnist"),
                               [f"train.steps={steps}", "train.batch_size=16", "model.g_hidden=4",
                                "model.d_hidden=4", "train.device=cpu", "train.ckpt_every=2",
                                "train.sample_every=2", "train.n_samples=10"])
    straight, _ = run.start(tiny(4), str(tmp_path / "a"))
    half, _ = run.start(tiny(2), str(tmp_path / "b"))
    run.resume(str(half), ["train.steps=4"])
    a = torch.load(straight / "state.pt", weights_only=True)["trainer"]
    b = torch.load(half / "state.pt", weights_only=True)["trainer"]
    for part in ("G", "D", "G_ema"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs"


def test_a_projection_d_reads_the_class_through_its_features():
    torch.manual_seed(0)
    D = DCGANDiscriminator28(hidden=4, n_classes=K, input_bn=False, cond="projection")
    first = next(m for m in D.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 1                      # no class maps at the input
    with torch.no_grad():
        D.embed.weight.normal_()
    x = torch.randn(6, 1, 28, 28)
    y = torch.arange(6)
    logits = D(x, y)
    assert logits.shape == (6,)
    assert not torch.allclose(logits, D(x, (y + 1) % K))  # the class changes the verdict
    # A float class vector is used as is: one-hot gives the index's logit, a mix lies between.
    onehot = torch.nn.functional.one_hot(y, K).float()
    assert torch.allclose(D(x, onehot), logits, atol=1e-5)
    unconditional = D.net[-1](D.net[:-1](x)).view(6)
    assert torch.allclose(D(x, torch.zeros(6, K)), unconditional, atol=1e-5)
    with pytest.raises(GankitError, match="model.d_cond must be one of concat, projection, none"):
        DCGANDiscriminator28(n_classes=K, cond="proj")


def test_a_projection_preset_trains_and_resumes(tmp_path):
    cfg = apply_overrides(load_preset("cdcgan-mnist"),
                          ["train.steps=2", "train.batch_size=8", "model.g_hidden=4",
                           "model.d_hidden=4", "model.d_cond=projection", "train.device=cpu",
                           "train.sample_every=2", "train.n_samples=10"])
    out, _ = run.start(cfg, str(tmp_path / "p"))
    D = torch.load(out / "state.pt", weights_only=True)["trainer"]["D"]
    assert "embed.weight" in D and D["net.0.0.weight"].shape[1] == 1


@pytest.mark.parametrize("cond", ["projection", "none"])
def test_a_classifying_d_names_the_class_from_features_blind_to_it(cond):
    torch.manual_seed(0)
    D = DCGANDiscriminator28(hidden=4, n_classes=K, input_bn=False, cond=cond, classify=True)
    x, y = torch.randn(6, 1, 28, 28), torch.arange(6)
    logits, classes = D(x, y, classes=True)
    assert logits.shape == (6,) and classes.shape == (6, K)
    assert torch.equal(logits, D(x, y))                  # the head adds, never changes, the logit
    assert torch.equal(classes, D(x, (y + 1) % K, classes=True)[1])  # the head never sees y
    if cond == "none":                                   # AC-GAN's D: the logit ignores y too
        assert torch.equal(logits, D(x, (y + 1) % K))


def test_a_class_head_is_refused_where_it_cannot_work():
    with pytest.raises(GankitError, match="set model.d_cond=projection or none"):
        DCGANDiscriminator28(n_classes=K, classify=True)          # concat: y is at the input
    with pytest.raises(GankitError, match="set model.n_classes"):
        DCGANDiscriminator28(cond="projection", classify=True)
    with pytest.raises(GankitError, match="set model.d_classify=true"):
        DCGANDiscriminator28(n_classes=K, cond="none")
    with pytest.raises(GankitError, match="no class head"):
        DCGANDiscriminator28(n_classes=K, cond="projection")(torch.randn(2, 1, 28, 28),
                                                             torch.arange(2), classes=True)
    cfg = apply_overrides(load_preset("cdcgan-mnist"), ["loss.ac_weight=2", "train.device=cpu"])
    with pytest.raises(GankitError, match="loss.ac_weight.*model.d_classify=true"):
        run.start(cfg, "/nonexistent/never-written")
    cfg = apply_overrides(load_preset("cdcgan-fashion"), ["loss.ac_weight=0", "train.device=cpu",
                                                          "data.name=mnist"])
    with pytest.raises(GankitError, match="nothing trains: set loss.ac_weight > 0"):
        run.start(cfg, "/nonexistent/never-written")


def _ac_step(weight: float):
    """One step of a tiny classifying cDCGAN with AC weight `weight`: (D before, trainer).
    Weight 0 (a class head nothing trains, which the trainer refuses as a setting) is the
    ablation: the trainer is built with weight 1 and its term switched off."""
    from gankit.training.gan import GANTrainer as Trainer
    cfg = apply_overrides(load_preset("cdcgan-mnist"),
                          ["train.batch_size=16", "model.g_hidden=4", "model.d_hidden=4",
                           "model.d_cond=projection", "model.d_classify=true",
                           f"loss.ac_weight={weight or 1.0}", "train.device=cpu"])
    torch.manual_seed(0)
    t = Trainer(cfg, load_data("mnist"), torch.device("cpu"))
    t.ac_weight = weight
    before = {k: v.clone() for k, v in t.D.state_dict().items()}
    torch.manual_seed(1)
    t.train_step()
    return before, t


def test_the_ac_term_trains_d_on_real_labels_and_pulls_g_towards_its_class(monkeypatch):
    before, off = _ac_step(0.0)
    assert torch.equal(off.D.classifier.weight, before["classifier.weight"])  # weight 0: unused
    before, on = _ac_step(5.0)
    assert not torch.equal(on.D.classifier.weight, before["classifier.weight"])
    # Same seeds, same batches: only the class term tells the two G's apart.
    assert any(not torch.equal(a, b) for a, b in zip(on.G.parameters(), off.G.parameters()))
    # The term is the cross-entropy of D's class logits: the real labels on D's side, the
    # labels G was asked for on G's side.
    x, y = torch.randn(4, 1, 28, 28), torch.tensor([1, 2, 3, 4])
    on.D.eval(), off.D.eval()                   # BatchNorm's running statistics: one answer
    with torch.no_grad():
        logits, classes = on.D(x, y, classes=True)
        out, term = on.judge_with_classes(x, y)
        assert torch.equal(out, logits)
        assert torch.allclose(term, 5.0 * torch.nn.functional.cross_entropy(classes, y))
        out, term = off.judge_with_classes(x, y)
        assert torch.equal(out, off.D(x, y)) and term == 0.0


def test_an_ac_preset_trains_and_resumes(tmp_path):
    cfg = apply_overrides(load_preset("cdcgan-mnist"),
                          ["train.steps=2", "train.batch_size=8", "model.g_hidden=4",
                           "model.d_hidden=4", "model.d_cond=none", "model.d_classify=true",
                           "train.device=cpu", "train.sample_every=2", "train.n_samples=10"])
    out, _ = run.start(cfg, str(tmp_path / "a"))
    half, _ = run.start(apply_overrides(cfg, ["train.steps=1"]), str(tmp_path / "b"))
    run.resume(str(half), ["train.steps=2"])
    a = torch.load(out / "state.pt", weights_only=True)["trainer"]["D"]
    b = torch.load(half / "state.pt", weights_only=True)["trainer"]["D"]
    assert "classifier.weight" in a and all(torch.equal(a[k], b[k]) for k in a)


def test_conditional_needs_labelled_data_with_matching_classes(tmp_path, image_folder):
    cfg = apply_overrides(load_preset("cdcgan-mnist"), ["model.n_classes=5"])
    with pytest.raises(GankitError, match="set model.n_classes=10"):
        run.start(cfg, str(tmp_path / "a"))
    flat = tmp_path / "flat"
    flat.mkdir()
    for p in list(image_folder.rglob("*.png"))[:3]:
        (flat / p.name).write_bytes(p.read_bytes())
    cfg = apply_overrides(load_preset("dcgan64-folder"), [f"data.path={flat}", "model.n_classes=2"])
    with pytest.raises(GankitError, match="needs labelled images"):
        run.start(cfg, str(tmp_path / "b"))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    cfg = apply_overrides(load_preset("toy-ring"), ["model.n_classes=8"])
    with pytest.raises(GankitError, match="unconditional"):
        run.start(cfg, str(tmp_path / "c"))


def test_folder_classes_come_from_subfolders(image_folder):
    data = load_data("folder", str(image_folder), image_size=16)
    assert data.class_names == ["part0", "part1"]
    assert data.labels.tolist() == [0] * 6 + [1] * 6  # sorted paths: part0/* then part1/*
    G, D, kwargs = build_models(ModelConfig(name="mlp", n_classes=2, g_hidden=4, d_hidden=4),
                                data.shape)
    assert kwargs["n_classes"] == 2 and D(data.images[:3], data.labels[:3]).shape == (3,)


def test_default_labels_are_one_class_per_row():
    assert default_labels(20, 10).tolist() == [k for k in range(10) for _ in range(2)]
    y = default_labels(64, 10)  # 7 columns, the last row short
    assert y.max() == 9 and (y[:63].view(9, 7) == torch.arange(9)[:, None]).all()


def test_class_accuracy_on_known_numbers():
    from gankit.metrics.image import class_accuracy
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 2])
    predicted = torch.tensor([0, 1, 1, 1, 2, 2, 2, 0])
    acc = class_accuracy(torch.nn.functional.one_hot(predicted, 3).float(), labels)
    assert acc["per_class"] == [0.5, 1.0, 0.75] and acc["min"] == 0.5
    assert acc["overall"] == 6 / 8
