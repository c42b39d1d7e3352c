"""The transformers engine: a local HF checkpoint or GGUF file on CPU or GPU.

Choice probabilities are read from one forward pass (the logits of the last prompt
position), softmaxed over the full vocabulary in fp32, then restricted to the first token
of each choice. ``choice_probs_grouped`` implements the judge's one-prefill-per-document
rule: the questions about one document share a token prefix (the chat header and the
document), which runs once with ``use_cache=True``; its keys/values are repeated across the
questions and only each question's suffix is run on top. The test suite checks that this
gives the same probabilities as full passes.

A model whose architecture is ``*ForSequenceClassification`` loads as a classifier and
serves ``sequence_scores`` (reward models); a causal LM serves the other operations.

The last model loaded on a CPU stays loaded for the next engine over the same files (same
path, sizes and modification times, dtype): ``score apply`` scores perplexity under the
embedded SmolLM2 right after ``score annotate`` judged with it, and loading it means
dequantising a GGUF file (20 s on an idle core, over 60 s on a loaded machine). Engines share
the weights read-only; a GPU model is never kept (its memory is for the next model).

Across processes, the first float32 load of a GGUF file keeps its de-quantised copy as a
Hugging Face directory under ``$QURATE_CACHE_DIR`` (default ``~/.cache/qurate``;
``QURATE_CACHE_DIR=off`` turns it off), keyed by the file's path, size, modification time
and the transformers version; later loads read that copy (about a second instead of 20-60).

``cpu_threads`` holds only while an engine computes: each call sets torch's thread count and
puts the caller's back when it returns (or raises), and ``generate`` draws from its own seeded
generator state, leaving the caller's torch RNG as it was. Set once at construction, it
outlived the command: a notebook that ran ``score annotate`` trained its next model on one
thread. Setting the count costs microseconds per batch.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from qurate.errors import ConfigError, EngineError, MissingExtraError
from qurate.llm.base import (
    ChoiceResult,
    Generation,
    GenParams,
    LocalTokenizerEngine,
    Prompt,
)
from qurate.llm.config import EngineConfig
from qurate.llm.gguf_tokens import fix_pre_tokenizer
from qurate.llm.models import resolve_model

log = logging.getLogger("qurate.llm")

_F = TypeVar("_F", bound=Callable[..., Any])


def _own_threads(method: _F) -> _F:
    """Run an engine method on the engine's ``cpu_threads``, then restore the caller's count
    (module docstring)."""

    @functools.wraps(method)
    def wrapper(self: TransformersEngine, *args: Any, **kwargs: Any) -> Any:
        want = self.config.cpu_threads if self.device.type == "cpu" else None
        before = self.torch.get_num_threads()
        if not want or want == before:
            return method(self, *args, **kwargs)
        self.torch.set_num_threads(want)
        try:
            return method(self, *args, **kwargs)
        finally:
            self.torch.set_num_threads(before)

    return wrapper  # type: ignore[return-value]


# (files, dtype, device) -> (tokenizer, model, is_classifier): the last model loaded on a CPU
_LOADED: dict[tuple[Any, ...], tuple[Any, Any, bool]] = {}


def _weights_key(src: Any, kwargs: dict[str, Any], device: Any) -> tuple[Any, ...]:
    """What makes two loads the same model: every file read (name, size, mtime), dtype and
    device, so a checkpoint rewritten in place is loaded again."""
    files = (
        [src.directory / src.gguf_file]
        if src.gguf_file
        else sorted(p for p in src.directory.iterdir() if p.is_file())
    )
    stats = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return (stats, str(kwargs["dtype"]), str(device))


# Raised when what a copy holds changes for the same file and transformers: 2, the tokenizer
# carries the GGUF's own pre-tokenizer (``gguf_tokens``); a version-1 copy had transformers'.
_COPY_VERSION = 2


def gguf_cache_dir(gguf: Path) -> Path | None:
    """Where the de-quantised Hugging Face copy of ``gguf`` is kept; None when caching is off."""
    import transformers

    root = os.environ.get("QURATE_CACHE_DIR", "")
    if root.lower() in ("off", "0", "none"):
        return None
    if root:
        base = Path(root)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qurate"
    f = gguf.resolve()
    st = f.stat()
    ident = [str(f), st.st_size, st.st_mtime_ns, transformers.__version__, _COPY_VERSION]
    key = hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]
    return base / "gguf-hf" / f"{f.stem}-{key}"


_CACHE_DONE = "qurate-cache-complete"  # written last: a copy cut short is never read


def _save_cache(cache: Path, tokenizer: Any, model: Any) -> None:
    """Write the copy under a temporary name and rename it into place; any failure (a
    read-only home, a full disk, another process that won the race) leaves no copy."""
    tmp = cache.parent / f".{cache.name}.{os.getpid()}.tmp"
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        import copy

        from safetensors.torch import save_model

        tmp.mkdir()
        # transformers refuses save_pretrained on a model loaded from GGUF (it is marked
        # quantised); its weights are plain float32 tensors by now, so write them directly
        config = copy.deepcopy(model.config)
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.save_pretrained(tmp)
        if getattr(model, "generation_config", None) is not None:
            model.generation_config.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(tmp)
        (tmp / _CACHE_DONE).write_text("")
        os.rename(tmp, cache)
    except (OSError, ValueError, RuntimeError) as e:
        if not (cache / _CACHE_DONE).is_file():
            log.warning("cannot keep a de-quantised copy of the model in %s: %s", cache, e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _import_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as e:
        raise MissingExtraError("torch/transformers", "train") from e
    return torch


@contextlib.contextmanager
def _quiet_loading() -> Any:
    """No progress bars while a model loads (transformers' weight loading and its GGUF
    de-quantisation, which calls tqdm directly): they flood logs and the CLI's own output."""
    import functools

    from transformers.utils import logging as hf_logging

    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        gguf_utils = None
    bar = getattr(gguf_utils, "tqdm", None)
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    if bar is not None:
        gguf_utils.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar
        if was_enabled:
            hf_logging.enable_progress_bar()


class TransformersEngine(LocalTokenizerEngine):
    kind = "transformers"

    def __init__(self, config: EngineConfig) -> None:
        super().__init__()
        torch = _import_torch()
        self.config = config
        self.torch = torch
        src = resolve_model(config.model)
        self.model_id = src.model_id
        device = config.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        dtype = config.dtype
        if dtype == "auto":
            dtype = "bfloat16" if self.device.type == "cuda" else "float32"
        kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype)}
        if src.gguf_file:
            try:
                import gguf  # noqa: F401
            except ImportError as e:
                raise MissingExtraError("gguf", "score") from e
            kwargs["gguf_file"] = src.gguf_file
        try:
            with _quiet_loading():
                self._load(src, kwargs)
        except (OSError, ValueError, KeyError, RuntimeError, IndexError, struct.error) as e:
            # struct.error / IndexError: a GGUF file cut short in its header
            raise ConfigError(
                f"model {config.model!r}: cannot load it with transformers ({e})"
            ) from e
        self.model.eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._choice_cache: dict[tuple[str, ...], list[int]] = {}
        # Cross-document prefix cache: the keys/values of the token prefix every judged
        # document shares (system prompt with the rubrics), found as the longest common
        # prefix of two consecutive groups, computed once and copied for each document.
        self._last_prefix: list[int] = []
        self._shared: tuple[list[int], Any] | None = None

    def _load(self, src: Any, kwargs: dict[str, Any]) -> None:
        key = _weights_key(src, kwargs, self.device) if self.device.type == "cpu" else None
        if key is not None and key in _LOADED:
            self.tokenizer, self.model, self.is_classifier = _LOADED[key]
            return
        _LOADED.clear()  # at most one kept model: free the last one before loading
        self._load_files(src, kwargs)
        if key is not None:
            _LOADED[key] = (self.tokenizer, self.model, self.is_classifier)

    def _load_files(self, src: Any, kwargs: dict[str, Any]) -> None:
        cache = gguf_cache_dir(src.directory / src.gguf_file) if src.gguf_file else None
        if cache is not None and (cache / _CACHE_DONE).is_file():
            copy_kwargs = {k: v for k, v in kwargs.items() if k != "gguf_file"}
            try:
                self._from_directory(str(cache), copy_kwargs)
                return
            except Exception as e:  # a damaged copy (safetensors has its own error type, too)
                log.warning("the kept copy %s does not load (%s); reading the GGUF file", cache, e)
                shutil.rmtree(cache, ignore_errors=True)
        self._from_directory(str(src.directory), kwargs)
        # only a float32 copy is kept: a bfloat16 one would round the weights of later loads
        if cache is not None and str(kwargs["dtype"]) == "torch.float32":
            _save_cache(cache, self.tokenizer, self.model)

    def _from_directory(self, directory: str, kwargs: dict[str, Any]) -> None:
        from transformers import (
            AutoConfig,
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoTokenizer,
        )

        gguf = {"gguf_file": kwargs["gguf_file"]} if "gguf_file" in kwargs else {}
        self.tokenizer = AutoTokenizer.from_pretrained(directory, **gguf)
        if gguf:
            fix_pre_tokenizer(self.tokenizer, Path(directory) / gguf["gguf_file"])
        hf_config = AutoConfig.from_pretrained(directory, **kwargs)
        archs = getattr(hf_config, "architectures", None) or []
        self.is_classifier = any(a.endswith("ForSequenceClassification") for a in archs)
        auto = AutoModelForSequenceClassification if self.is_classifier else AutoModelForCausalLM
        self.model = auto.from_pretrained(directory, **kwargs).to(self.device)

    # -- tokenisation ---------------------------------------------------------------------

    def render(self, prompt: Prompt) -> str:
        """A prompt as the text the model sees (chat messages through the chat template)."""
        if isinstance(prompt, str):
            return prompt
        if not getattr(self.tokenizer, "chat_template", None):
            raise EngineError(
                f"model {self.model_id}: chat prompt given but it has no chat template"
            )
        return self.tokenizer.apply_chat_template(
            prompt, tokenize=False, add_generation_prompt=True
        )

    def encode(self, prompt: Prompt) -> list[int]:
        text = self.render(prompt)
        # A rendered chat already carries its special tokens; a plain string gets BOS etc.
        return self.tokenizer.encode(text, add_special_tokens=isinstance(prompt, str))

    def choice_ids(self, choices: list[str]) -> list[int]:
        """The first token of each choice; distinct choices must start with distinct tokens."""
        key = tuple(choices)
        if key not in self._choice_cache:
            ids = []
            for c in choices:
                toks = self.tokenizer.encode(c, add_special_tokens=False)
                if not toks:
                    raise EngineError(f"choice {c!r} encodes to no token")
                ids.append(toks[0])
            if len(set(ids)) != len(ids):
                raise EngineError(f"choices {choices} do not start with distinct tokens")
            self._choice_cache[key] = ids
        return self._choice_cache[key]

    # -- operations -----------------------------------------------------------------------

    def _pad(self, seqs: list[list[int]], left: bool) -> tuple[Any, Any]:
        torch = self.torch
        width = max(len(s) for s in seqs)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            if left:
                ids[i, width - len(s) :] = torch.tensor(s)
                mask[i, width - len(s) :] = 1
            else:
                ids[i, : len(s)] = torch.tensor(s)
                mask[i, : len(s)] = 1
        return ids.to(self.device), mask.to(self.device)

    def _require_lm(self) -> None:
        if self.is_classifier:
            raise EngineError(
                f"model {self.model_id} is a classifier: it only gives sequence scores"
            )

    def _results(
        self, logits: Any, ids: list[int], choices: list[str], n_tokens: list[int]
    ) -> list[ChoiceResult]:
        probs = self.torch.softmax(logits.float(), dim=-1)[:, ids]
        out = []
        for row, n in zip(probs.tolist(), n_tokens, strict=False):
            mass = float(sum(row))
            if mass <= 0:
                out.append(ChoiceResult(error="choices have zero probability", prompt_tokens=n))
                continue
            out.append(
                ChoiceResult({c: p / mass for c, p in zip(choices, row, strict=False)}, mass, n)
            )
        return out

    @_own_threads
    def choice_probs(self, prompts: list[Prompt], choices: list[str]) -> list[ChoiceResult]:
        self._require_lm()
        ids = self.choice_ids(choices)
        out: list[ChoiceResult] = []
        bs = self.config.batch_size
        for i in range(0, len(prompts), bs):
            seqs = [self.encode(p) for p in prompts[i : i + bs]]
            input_ids, mask = self._pad(seqs, left=True)
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
            with self.torch.inference_mode():
                logits = self.model(
                    input_ids=input_ids,
                    attention_mask=mask,
                    position_ids=position_ids,
                    logits_to_keep=1,
                ).logits[:, -1, :]
            n_tokens = [len(s) for s in seqs]
            out.extend(self._results(logits, ids, choices, n_tokens))
            self.meter.add(len(seqs), sum(n_tokens))
        return out

    @_own_threads
    def choice_probs_grouped(
        self, groups: list[list[Prompt]], choices: list[list[str]]
    ) -> list[list[ChoiceResult]]:
        self._require_lm()
        torch = self.torch
        all_ids = [self.choice_ids(c) for c in choices]
        out: list[list[ChoiceResult]] = []
        for group in groups:
            seqs = [self.encode(p) for p in group]
            # The longest common token prefix, leaving every question at least one token.
            n = min(len(s) for s in seqs) - 1
            k = 0
            while k < n and all(s[k] == seqs[0][k] for s in seqs):
                k += 1
            prefix = seqs[0][:k]
            suffixes = [s[k:] for s in seqs]
            with torch.inference_mode():
                past = self._prefill(prefix)
                past.batch_repeat_interleave(len(suffixes))
                ids, mask = self._pad(suffixes, left=False)
                full_mask = torch.cat(
                    [torch.ones((len(suffixes), k), dtype=mask.dtype, device=self.device), mask], 1
                )
                positions = (k + torch.arange(ids.shape[1], device=self.device)).expand_as(ids)
                logits = self.model(
                    input_ids=ids,
                    attention_mask=full_mask,
                    position_ids=positions,
                    past_key_values=past,
                ).logits
            last = torch.tensor([len(s) - 1 for s in suffixes], device=self.device)
            last_logits = logits[torch.arange(len(suffixes), device=self.device), last]
            results = []
            for j, (ch, cids) in enumerate(zip(choices, all_ids, strict=False)):
                results.extend(self._results(last_logits[j : j + 1], cids, ch, [len(seqs[j])]))
            out.append(results)
            self.meter.add(1, k + sum(len(s) for s in suffixes))
        return out

    def _prefill(self, prefix: list[int]) -> Any:
        """Keys/values for ``prefix``, reusing the shared cross-document prefix when it fits."""
        import copy

        torch = self.torch
        start, past = 0, None
        if (
            self._shared
            and len(self._shared[0]) < len(prefix)
            and prefix[: len(self._shared[0])] == self._shared[0]
        ):
            start, past = len(self._shared[0]), copy.deepcopy(self._shared[1])
        else:
            lcp = 0
            for a, b in zip(prefix, self._last_prefix, strict=False):
                if a != b:
                    break
                lcp += 1
            if lcp >= 16 and lcp < len(prefix):
                ids = torch.tensor([prefix[:lcp]], device=self.device)
                shared = self.model(input_ids=ids, use_cache=True, logits_to_keep=1).past_key_values
                self._shared = (prefix[:lcp], shared)
                start, past = lcp, copy.deepcopy(shared)
        self._last_prefix = prefix
        ids = torch.tensor([prefix[start:]], device=self.device)
        positions = torch.arange(start, len(prefix), device=self.device)[None]
        return self.model(
            input_ids=ids,
            position_ids=positions,
            past_key_values=past,
            use_cache=True,
            logits_to_keep=1,  # only the keys/values are wanted; skip the vocab projection
        ).past_key_values

    @_own_threads
    def generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        self._require_lm()
        # every batch reseeds torch (a rerun samples the same texts): on a copy of the
        # caller's generator state, which is put back (module docstring)
        devices = [self.device] if self.device.type == "cuda" else []
        with self.torch.random.fork_rng(devices=devices):
            return self._generate(prompts, params)

    def _generate(self, prompts: list[Prompt], params: GenParams) -> list[Generation]:
        torch = self.torch
        out: list[Generation] = []
        bs = self.config.batch_size
        eos = self.tokenizer.eos_token_id
        for i in range(0, len(prompts), bs):
            seqs = [self.encode(p) for p in prompts[i : i + bs]]
            input_ids, mask = self._pad(seqs, left=True)
            torch.manual_seed(params.seed)
            sample = params.temperature > 0
            try:
                with torch.inference_mode():
                    gen = self.model.generate(
                        input_ids=input_ids,
                        attention_mask=mask,
                        max_new_tokens=params.max_tokens,
                        do_sample=sample,
                        temperature=params.temperature if sample else None,
                        top_p=params.top_p if sample else None,
                        top_k=None,
                        num_return_sequences=params.n,
                        pad_token_id=self.tokenizer.pad_token_id,
                        stop_strings=list(params.stop) or None,
                        tokenizer=self.tokenizer if params.stop else None,
                    )
            except (RuntimeError, ValueError) as e:
                out.extend(Generation(error=f"generation failed: {e}") for _ in seqs)
                continue
            new = gen[:, input_ids.shape[1] :].tolist()
            for j, s in enumerate(seqs):
                g = Generation(prompt_tokens=len(s))
                for row in new[j * params.n : (j + 1) * params.n]:
                    stopped = eos in row
                    if stopped:
                        row = row[: row.index(eos)]
                    else:
                        row = [t for t in row if t != self.tokenizer.pad_token_id]
                    text = self.tokenizer.decode(row, skip_special_tokens=True)
                    hit_stop = any(st in text for st in params.stop)
                    for st in params.stop:
                        text = text.split(st)[0]
                    g.texts.append(text)
                    g.finish_reasons.append("stop" if stopped or hit_stop else "length")
                    g.completion_tokens += len(row)
                out.append(g)
                self.meter.add(1, g.prompt_tokens + g.completion_tokens)
        return out

    @_own_threads
    def sequence_scores(self, texts: list[Prompt]) -> list[float | None]:
        if not self.is_classifier:
            raise EngineError(f"model {self.model_id} is not a classification / reward model")
        torch = self.torch
        out: list[float | None] = []
        bs = self.config.batch_size
        for i in range(0, len(texts), bs):
            seqs = [self.encode(t) for t in texts[i : i + bs]]
            ids, mask = self._pad(seqs, left=False)
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
            if logits.shape[-1] == 1:  # a reward head: the logit is the score
                out.extend(logits[:, 0].tolist())
            else:  # a classifier: the probability of the last ("positive") label
                out.extend(torch.softmax(logits, -1)[:, -1].tolist())
            self.meter.add(len(seqs), sum(len(s) for s in seqs))
        return out

    def loglikelihood(self, texts: list[str], max_tokens: int) -> list[tuple[float, int]]:
        """(sum of token log-probabilities, tokens scored) per text, first ``max_tokens`` tokens.

        The first token is conditioned on BOS when the tokenizer has one, so every token
        of the text counts.
        """
        seqs = [self.tokenizer.encode(t, add_special_tokens=False)[:max_tokens] for t in texts]
        return [(float(lp.sum()), len(lp)) for lp in self.token_logprobs(seqs)]

    @_own_threads
    def token_logprobs(self, seqs: list[list[int]]) -> list[Any]:
        """Log-probability of every token of each id sequence (a float32 numpy array each),
        the first conditioned on BOS (EOS when the tokenizer has no BOS)."""
        self._require_lm()
        torch = self.torch
        out: list[Any] = []
        bos = self.tokenizer.bos_token_id
        bos = bos if bos is not None else self.tokenizer.eos_token_id
        bs = self.config.batch_size
        for i in range(0, len(seqs), bs):
            batch = [[bos, *s] for s in seqs[i : i + bs]]
            ids, mask = self._pad(batch, left=False)
            with torch.inference_mode():
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
                logp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
            for row, s in zip(logp.cpu().numpy(), batch, strict=True):
                out.append(row[: len(s) - 1].copy())
            self.meter.add(len(batch), sum(len(s) for s in batch))
        return out
