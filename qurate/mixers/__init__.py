"""Domain x quality mixing to a token budget, long-context stages, training shards.

Entry points: ``plan_mix(inputs, cfg)`` (the plan, nothing written) and
``mix(inputs, out, cfg)`` (training shards + ``manifest.json``). ``MixConfig`` is loaded
from ``MIX.yaml`` by ``load_mix_config``; ``demo_mix_config`` is the bundled demo's.
"""

from __future__ import annotations

from qurate.mixers.config import LongContextStage, MixConfig, load_mix_config, parse_mix_config
from qurate.mixers.demo import DEMO_MIX_YAML, demo_mix_config
from qurate.mixers.mixer import mix, plan_mix
from qurate.mixers.plan import MixPlan

__all__ = [
    "DEMO_MIX_YAML",
    "LongContextStage",
    "MixConfig",
    "MixPlan",
    "demo_mix_config",
    "load_mix_config",
    "mix",
    "parse_mix_config",
    "plan_mix",
]
