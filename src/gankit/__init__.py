"""gankit: generative adversarial networks from a first course, as tested software."""

__version__ = "0.1.0"
