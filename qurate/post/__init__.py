"""Post-training: SFT rows and DPO pairs from our synth output and chat files, then SFT
(two-phase long SFT), DPO and GRPO on TRL over Hugging Face checkpoints (``qurate post``)."""

from qurate.post.config import PostConfig

__all__ = ["PostConfig"]
