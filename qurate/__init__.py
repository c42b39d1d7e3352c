"""qurate: raw text corpora -> a Qwen2.5-style pretraining mixture -> a Qwen2.5 model."""

__version__ = "0.1.0"
