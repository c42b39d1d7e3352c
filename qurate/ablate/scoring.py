"""Log-likelihood of token sequences under a causal model: the core of every evaluation.

A sequence is ``[EOS] + tokens``; its scored part is the tokens from ``start`` on (every
token for bits per byte, the answer's tokens for multiple choice). Sequences longer than
the window are cut into windows of ``seq_len`` inputs (a window's first label follows the
previous window's last token, as the trainer's ``concat`` packing does; context does not
carry across windows, the same for every model). Windows are packed into rows of
``seq_len`` with one segment id each, so attention and positions restart per window
(``doc_ids``, the same masking the trainer uses) and short documents do not waste a row.

The per-token loss: the model's hidden states (``Qwen2.hidden_states``), the head written
into one logits buffer reused by every pass, its fp32 log-softmax in place, read at each
label (``head_nll``, ``token_nll``); the forward pass is where the time goes
(``bench/ablate.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from qurate.errors import BadInputError
from qurate.train.checkpoint import load_hf_model, resolve_checkpoint
from qurate.train.model import Qwen2
from qurate.train.tokenizer import encode, eos_id, load_tokenizer, vocab_size

IGNORE = -100
LOGIT_BUDGET = 1 << 26  # logits per forward pass (256 MB in fp32): bounds eval memory


@dataclass
class LoadedModel:
    """A model ready to score: weights, tokenizer, device and where it came from."""

    model: Qwen2
    tokenizer: Tokenizer
    device: torch.device
    path: Path

    @property
    def eos(self) -> int:
        return eos_id(self.tokenizer)

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        return encode(self.tokenizer, texts)


def load_model(path: str | Path, device: str | None = None) -> LoadedModel:
    """A run directory (its latest checkpoint), a checkpoint or a Hugging Face Qwen2
    directory, with the tokenizer stored beside the weights."""
    ckpt = resolve_checkpoint(path)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = load_hf_model(ckpt).to(dev).eval()
    tok_dir = ckpt if (ckpt / "tokenizer.json").is_file() else Path(path) / "tokenizer"
    if not (tok_dir / "tokenizer.json").is_file():
        raise BadInputError(f"{path}: no tokenizer.json beside the checkpoint")
    tok = load_tokenizer(tok_dir)
    if vocab_size(tok) > model.config.vocab_size:  # was an IndexError in the embedding
        raise BadInputError(
            f"{path}: the tokenizer has {vocab_size(tok)} tokens but the model's vocab_size is "
            f"{model.config.vocab_size}: they do not belong together"
        )
    return LoadedModel(model, tok, dev, ckpt)


@dataclass
class Packed:
    """Rows ready for the model and, per position, which sequence its label belongs to."""

    input_ids: np.ndarray  # (R, L) int64
    labels: np.ndarray  # (R, L) int64, IGNORE where not scored
    segments: np.ndarray  # (R, L) int64, one id per window; padding has its own
    owner: np.ndarray  # (R, L) int64, sequence index of the label, -1 where not scored


def pack(seqs: list[tuple[np.ndarray, int]], seq_len: int, pad: int) -> Packed:
    """Windows of every ``(tokens, start)`` sequence packed greedily into rows of ``seq_len``."""
    rows: list[tuple[list, list, list, list]] = []
    cur: tuple[list, list, list, list] = ([], [], [], [])
    used, seg = 0, 0
    for i, (toks, start) in enumerate(seqs):
        toks = np.asarray(toks, dtype=np.int64)
        for w0 in range(0, max(len(toks) - 1, 0), seq_len):
            inp = toks[w0 : w0 + seq_len]
            lab = toks[w0 + 1 : w0 + seq_len + 1].copy()
            inp = inp[: len(lab)]
            pos = np.arange(w0 + 1, w0 + 1 + len(lab))
            lab[pos < start] = IGNORE
            if used + len(inp) > seq_len:
                rows.append(cur)
                cur, used = ([], [], [], []), 0
            seg += 1
            cur[0].append(inp)
            cur[1].append(lab)
            cur[2].append(np.full(len(inp), seg))
            cur[3].append(np.where(lab == IGNORE, -1, i))
            used += len(inp)
    if used:
        rows.append(cur)
    n = len(rows)
    out = Packed(
        np.full((n, seq_len), pad, np.int64),
        np.full((n, seq_len), IGNORE, np.int64),
        np.zeros((n, seq_len), np.int64),
        np.full((n, seq_len), -1, np.int64),
    )
    for r, (inp, lab, sg, own) in enumerate(rows):
        k = sum(len(x) for x in inp)
        out.input_ids[r, :k] = np.concatenate(inp)
        out.labels[r, :k] = np.concatenate(lab)
        out.segments[r, :k] = np.concatenate(sg)
        out.segments[r, k:] = -1  # padding: a segment of its own, never scored
        out.owner[r, :k] = np.concatenate(own)
    return out


def rows_per_pass(seq_len: int, vocab: int, batch_size: int) -> int:
    """Rows per forward: ``batch_size``, fewer when the logits would pass ``LOGIT_BUDGET``."""
    return max(1, min(batch_size, LOGIT_BUDGET // max(1, seq_len * vocab)))


def token_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token loss in nats (N,), fp32, 0 where the label is ``IGNORE``.

    The same numbers as ``F.cross_entropy(..., reduction="none")`` (a test holds them equal),
    but the log-softmax is written over fp32 logits in place: they are dead after this, and a
    fresh logits-sized tensor costs more than the exps. Measured on the loaded 2-core bench
    machine (2026-12-04, 4,096 x 8,192 fp32, 1 thread, medians of 7): in-place log-softmax
    0.062 s, ``F.cross_entropy`` 0.300 s, ``torch.logsumexp`` 0.445 s (it allocates a
    temporary; the trainer's ``lm_loss`` uses it, so eval does not reuse that function), and
    allocating + filling a fresh tensor of that size 0.234 s (page faults).
    """
    lp = logits.reshape(-1, logits.shape[-1]).float()  # a new tensor unless already fp32
    torch.log_softmax(lp, dim=-1, out=lp)  # row-wise kernel: safe in place
    labels = labels.reshape(-1)
    valid = labels != IGNORE
    picked = lp.gather(1, labels.clamp(min=0)[:, None]).squeeze(1)
    return torch.where(valid, -picked, torch.zeros_like(picked))


def head_nll(
    model: Qwen2, hidden: torch.Tensor, labels: torch.Tensor, buf: torch.Tensor | None
) -> torch.Tensor:
    """``token_nll`` of the head over ``hidden`` (B, T, H). With fp32 weights the logits are
    written into ``buf`` (rows >= B*T, V), one buffer for every pass: the model's own
    forward allocates a fresh logits tensor each call, whose page faults cost 4x the
    log-softmax on CPU (see ``token_nll``)."""
    h = hidden.reshape(-1, hidden.shape[-1])
    w = model.lm_head.weight
    if buf is not None and h.dtype == w.dtype == buf.dtype:
        logits = torch.mm(h, w.t(), out=buf[: h.shape[0]])
    else:
        logits = h @ w.t()
    return token_nll(logits, labels)


@torch.inference_mode()
def sequence_nll(
    lm: LoadedModel,
    seqs: list[tuple[np.ndarray, int]],
    *,
    seq_len: int,
    batch_size: int,
    on_rows: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(summed loss in nats, scored tokens) per sequence. ``on_rows(done, total)`` after each
    forward pass, in packed windows of ``seq_len`` tokens (a progress bar)."""
    nll = np.zeros(len(seqs), dtype=np.float64)
    count = np.zeros(len(seqs), dtype=np.int64)
    if not seqs:
        return nll, count
    p = pack(seqs, seq_len, lm.eos)
    vocab = lm.model.config.vocab_size
    step = rows_per_pass(seq_len, vocab, batch_size)
    w = lm.model.lm_head.weight
    rows = min(step, len(p.input_ids)) * seq_len
    buf = (
        torch.empty(rows, vocab, dtype=w.dtype, device=w.device)
        if w.dtype == torch.float32
        else None
    )
    for r0 in range(0, len(p.input_ids), step):
        sl = slice(r0, r0 + step)
        ids = torch.from_numpy(p.input_ids[sl]).to(lm.device)
        seg = torch.from_numpy(p.segments[sl]).to(lm.device)
        labels = torch.from_numpy(p.labels[sl]).to(lm.device)
        loss = head_nll(lm.model, lm.model.hidden_states(ids, doc_ids=seg), labels, buf)
        loss = loss.cpu().numpy().astype(np.float64)
        own = p.owner[sl].reshape(-1)
        keep = own >= 0
        nll += np.bincount(own[keep], weights=loss[keep], minlength=len(seqs))
        count += np.bincount(own[keep], minlength=len(seqs))
        if on_rows is not None:
            on_rows(min(r0 + step, len(p.input_ids)), len(p.input_ids))
    return nll, count


@torch.no_grad()
def greedy(lm: LoadedModel, prompt: str, max_new_tokens: int, seq_len: int) -> str:
    """Greedy continuation of ``prompt`` until EOS or ``max_new_tokens`` (no KV cache: the
    whole window is recomputed per token, quadratic but exact; proxy models are small)."""
    ids = [lm.eos, *lm.encode([prompt])[0].tolist()]
    start = len(ids)
    limit = lm.model.config.max_position_embeddings
    for _ in range(max_new_tokens):
        window = ids[-min(seq_len, limit) :]
        x = torch.tensor([window], dtype=torch.int64, device=lm.device)
        nxt = int(lm.model(x)[0, -1].argmax())
        if nxt == lm.eos:
            break
        ids.append(nxt)
    return lm.tokenizer.decode(ids[start:], skip_special_tokens=True)
