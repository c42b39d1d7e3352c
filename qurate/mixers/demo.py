"""The documented default mix config, used by ``qurate run`` on the bundled sample.

``DEMO_MIX_YAML`` is also the template a user copies to write their own ``MIX.yaml``.
``demo_mix_config`` sizes the budget from the inputs (by default the natural total, so the
demo re-balances the sample rather than growing or shrinking it) and drops entries for
domains the inputs do not have, since naming an unknown domain is an error in a user's
config.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from qurate.mixers.config import MixConfig, parse_mix_config
from qurate.mixers.mixer import plan_mix

DEMO_MIX_YAML = """\
# qurate mix config (MIX.yaml). Every key is optional except budget_tokens.
budget_tokens: 1000000        # total tokens in the mix
seed: 0                       # every sampling and shuffle decision derives from it
max_epochs: 4                 # no document repeated more than this (per-domain override below)
quality_buckets: 4            # global quality quartiles; or edges, e.g. [0.3, 0.6, 0.8]
# temperature: 2              # flatten natural shares as p^(1/T) before multipliers
# tokenizer: path/to/tokenizer.json   # counts documents whose n_tokens is null
shard_tokens: 50000000        # a training shard closes at this many tokens
default:                      # for domains not listed below
  multiplier: 1.0             # keep the natural share
domains:                      # the Qwen2.5 report's down/up-sampling of the natural mix
  ecommerce:     {multiplier: 0.5}
  social_media:  {multiplier: 0.5}
  entertainment: {multiplier: 0.6}
  technology:    {multiplier: 1.5}
  science:       {multiplier: 2.0, bucket_rates: [0.5, 1.0, 1.5, 2.0]}
  academic:      {multiplier: 2.0, min_quality: 0.2}
  math:          {multiplier: 2.0, max_epochs: 6}
  code:          {multiplier: 1.5, max_epochs: 6}
# UniMax instead: default: {weight: 1} and no multipliers.
long_context:                 # stages composed from the mix (40% at max length)
  - name: ctx4k
    max_tokens: 4096
    long_fraction: 0.4
"""


def demo_mix_config(
    inputs: list[Path] | None = None, budget_tokens: int | None = None
) -> MixConfig:
    """The demo config, fitted to ``inputs`` when given.

    With ``inputs``: domains absent from them are dropped and, unless ``budget_tokens`` is
    given, the budget is the inputs' total tokens. Without inputs ``budget_tokens`` is needed.
    """
    data = yaml.safe_load(DEMO_MIX_YAML)
    if inputs is not None:
        probe = dict(data, budget_tokens=1, domains={})
        plan = plan_mix(inputs, parse_mix_config(probe, source="demo mix config"))
        data["domains"] = {d: s for d, s in data["domains"].items() if d in plan.domains}
        if budget_tokens is None:
            budget_tokens = sum(p.available_tokens for p in plan.domains.values())
    if budget_tokens is None:
        raise ValueError("demo_mix_config: give inputs or budget_tokens")
    data["budget_tokens"] = int(budget_tokens)
    return parse_mix_config(data, source="demo mix config")
