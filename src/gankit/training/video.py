"""The video GAN's trainer: TGAN's clips trained with the same alternating update as any GAN.

A clip is one sample to D, so `GANTrainer`'s step (D on real and fake clips, then G through
a frozen D; the loss table; gradient penalty, R1, EMA) applies unchanged to (B, C, T, H, W)
batches. What differs is the kind: its batches are uint8 clips turned into floats one batch at
a time (`gankit.data.video.VideoBatches`), image-only settings are refused, and the health
monitor is off, since its signs (class coverage, sample diversity) read images.
"""

from gankit.errors import GankitError
from gankit.training.gan import GANTrainer


class VideoGANTrainer(GANTrainer):
    """The `gankit.training.protocol.Trainer` of video GANs (model.name=tgan)."""
    kind = "video"
    monitored = False  # the health monitor's coverage and diversity read images, not clips

    @classmethod
    def check(cls, cfg, data, models) -> None:
        image_only = [k for k, on in (("train.diffaugment", bool(cfg.train.diffaugment)),
                                      ("train.channels_last", cfg.train.channels_last),
                                      ("model.n_classes", cfg.model.n_classes > 0)) if on]
        if image_only:
            raise GankitError(f"{', '.join(image_only)}: not available for video GANs "
                              "(model.name=tgan); leave them at their defaults")
        super().check(cfg, data, models)
