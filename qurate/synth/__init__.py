"""Synthetic data from a teacher, kept only when reward models and verifiers agree.

The Qwen2.5 report's third data lever as two stages:

- :func:`qurate.synth.generate.generate` (``qurate synth generate``): versioned YAML task
  templates (:mod:`qurate.synth.tasks`) turn seed rows into prompts; any ``qurate/llm``
  engine samples n outputs per prompt behind the persistent prompt cache; outputs are parsed
  into samples (prompt, response, task, reference, tests) with provenance.
- :func:`qurate.synth.filter.filter_samples` (``qurate synth filter``): decontamination,
  verifiers (:mod:`~qurate.synth.verify_math`, :mod:`~qurate.synth.verify_code` in the
  :mod:`~qurate.synth.sandbox`), reward models (:mod:`~qurate.synth.reward`), selection
  (:mod:`~qurate.synth.select`) and dedup (:mod:`~qurate.synth.dedup`), writing the shard
  contract with ``synthetic=true`` so ``qurate mix`` takes the output as one more source.

:func:`qurate.synth.demo.run_demo` is the small offline step of ``qurate run``.
"""
