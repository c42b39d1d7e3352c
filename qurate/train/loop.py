"""The training loop: AdamW, schedule, accumulation, eval, metrics, checkpoints, resume.

One step = one global batch: every process takes its streams' micro-batches, the valid
token count of the whole global batch is summed over processes first, and every
micro-batch's *summed* loss is divided by it. So the update is the same for any split of
the global batch into processes and accumulation steps (the data-parallel test checks
this), and padding never re-weights tokens.

A non-finite loss stops the run before the optimiser touches the weights, with the path
of the last good checkpoint. ``--max-steps 0`` loads or initialises, saves and stops.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from qurate.errors import BadInputError, DivergedError
from qurate.train import checkpoint as ck
from qurate.train import dist as dl
from qurate.train import prepare, rundir
from qurate.train.compiled import compile_blocks, compile_unavailable
from qurate.train.config import TrainConfig
from qurate.train.data import (
    Loader,
    eval_batches,
    list_shards,
    resolve_packing,
    split_eval,
    train_row_filter,
)
from qurate.train.model import ModelConfig, Qwen2
from qurate.train.tokenizer import eos_id, save_tokenizer_dir

# bf16 dense peak per GPU, for MFU when the config does not give peak_flops
PEAK_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12}

Event = Callable[[str, dict[str, Any]], None]


@dataclass
class TrainResult:
    out: Path
    steps: int
    tokens: int
    final_loss: float | None
    eval_loss: float | None
    checkpoint: Path
    params: int
    batch_tokens: int
    lr: float
    plan: dict | None
    already_done: bool = False  # a finished run of the same config: nothing was trained
    skipped_empty_text: int = 0  # empty or whitespace-only documents skipped (this stage)
    note: str | None = None  # why the batch differs from the one asked for, if it does


def _peak_flops(cfg: TrainConfig, device: torch.device) -> float | None:
    if cfg.peak_flops:
        return cfg.peak_flops
    if device.type != "cuda":
        return None  # CPU peak is not meaningful here; MFU is left out
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_FLOPS.items() if k in name), None)


def _optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; decay only matrices (not norms or biases); the fused kernel when it exists."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.optim.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    o = cfg.optim
    kw: dict[str, Any] = {"lr": 0.0, "betas": (o.beta1, o.beta2), "eps": o.eps}
    try:
        return torch.optim.AdamW(groups, fused=True, **kw)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, **kw)


class Trainer:
    """State of one run. ``run()`` trains to the end (or ``stop_at``) and returns a result."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        resume: bool,
        on_event: Event | None,
        overwrite: bool = False,
    ) -> None:
        self.d = dl.setup()
        self.on_event = on_event or (lambda kind, data: None)
        if cfg.out is None:
            raise BadInputError("training needs an output directory (-o)")
        self.run_dir = Path(cfg.out)
        if (self.run_dir / "manifest.json").is_file():  # `-o` = `--data`: checkpoints among shards
            raise BadInputError(
                f"{self.run_dir}: holds a qurate stage directory; train into a new -o"
            )
        if overwrite and self.d.main:
            rundir.clear(self.run_dir)
        self.d.barrier()
        if resume:
            cfg = rundir.for_resume(cfg)  # `--resume` alone: the run's own config
        cfg = prepare.preset_train_defaults(cfg)  # the tiny preset's rows and batch, if unset
        if cfg.data is None:
            raise BadInputError("training needs a data directory (--data) and an output (-o)")
        latest = ck.latest_checkpoint(self.run_dir)
        saved = ck.read_train_state(latest) if latest else None
        self.done: dict | None = None
        if not resume and rundir.check_fresh_start(self.run_dir, saved, cfg):
            self.cfg, self.done = cfg, saved  # finished already: run() reports, trains nothing
            return
        self.mcfg = prepare.model_config(cfg)
        cfg = prepare.fit_seq_len(cfg, self.mcfg)
        self.cfg = cfg
        self.shards = list_shards(cfg.data)
        prepare.check_stages(self.mcfg, cfg.effective_stages())
        self.resume_from = latest if resume else None
        self.saved = saved if resume else None
        # what the checkpoints record and a resume compares: the shards as the run found them
        self.data_shards = prepare.shard_listing(self.shards)
        if self.saved:
            prepare.check_resume(self.saved, cfg, self.mcfg, self.data_shards)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.d.main:  # the main process trains or copies the tokenizer, the others read it
            rundir.write_config(self.run_dir, cfg)
            self.tok = prepare.tokenizer(cfg, self.mcfg, self.run_dir, True)
        self.d.barrier()
        if not self.d.main:
            self.tok = prepare.tokenizer(cfg, self.mcfg, self.run_dir, False)
        self.sched = prepare.keep_peak_lr(
            prepare.schedule(cfg, self.mcfg, self.d.world), self.saved, cfg
        )
        self.amp = cfg.dtype == "bfloat16" or (cfg.dtype == "auto" and self.d.device.type == "cuda")
        self.peak = _peak_flops(cfg, self.d.device)

    # ---------------------------------------------------------------- model and state

    def _build(self) -> None:
        torch.manual_seed(self.cfg.seed)
        if self.resume_from is not None:
            model = ck.load_hf_model(self.resume_from)
            ck.check_finite_weights(
                model,
                self.resume_from,
                "delete that checkpoint to resume from an earlier one, or --overwrite",
            )
        elif self.cfg.init_from:
            model = ck.load_hf_model(Path(self.cfg.init_from))
            ck.check_finite_weights(
                model, Path(self.cfg.init_from), "not a usable --init-from checkpoint"
            )
        else:
            model = Qwen2(self.mcfg)
        self.raw = model.to(self.d.device)
        self.n_params = sum(p.numel() for p in self.raw.parameters())
        wrapped = dl.wrap(self.raw, self.d, self.cfg.parallel)
        self.wrapped = wrapped  # what the state-dict API sees (not the compiled wrapper)
        self.model = wrapped
        self.compiled: str | None = None  # None: not asked; else what compile did
        if self.cfg.compile:
            why = compile_unavailable(self.d.device)
            if why is None:  # in place: parameter names and the DDP/FSDP wrapper unchanged
                self.compiled = f"{compile_blocks(self.raw.model.layers)} blocks compiled"
            else:
                self.compiled = f"eager: {why}"
                if self.d.main:
                    print(f"compile: {why}; running eager", file=sys.stderr)
        self.opt = _optimizer(wrapped, self.cfg)
        self.step, self.tokens_seen, self.stage = 0, 0, -1
        self.last_ckpt: Path | None = self.resume_from
        self.loader: Loader | None = None
        self.evals: list[dict[str, torch.Tensor]] = []
        if self.resume_from is not None:
            from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

            optim = ck.load_state(self.resume_from / "optim.pt")
            set_optimizer_state_dict(wrapped, self.opt, optim, options=self._sd_options(True))
            st = ck.load_state(self.resume_from / f"trainer-rank{self.d.rank}.pt")
            ck.set_rng_state(st["rng"])
            self.step, self.tokens_seen = self.saved["step"], self.saved["tokens"]  # type: ignore[index]
            stage = self.sched.stage_at(self.step)
            # a checkpoint taken at a stage's last step holds the finished stage's data state
            same = self.saved["stage"] == stage  # type: ignore[index]
            self._enter_stage(stage, st.get("data") if same else None)

    def _sd_options(self, loading: bool) -> Any:
        from torch.distributed.checkpoint.state_dict import StateDictOptions

        if self.d.active and self.cfg.parallel == "fsdp":
            return StateDictOptions(
                full_state_dict=True, cpu_offload=not loading, broadcast_from_rank0=loading
            )
        return StateDictOptions()

    def _enter_stage(self, index: int, data_state: dict | None = None) -> None:
        """Build the loader (and RoPE base, eval set) of a stage."""
        s = self.cfg.effective_stages()[index]
        self.stage = index
        theta = s.rope_theta or self.mcfg.rope_theta
        if theta != self.raw.config.rope_theta:
            self.raw.set_rope_theta(theta)
        shards = list_shards(s.data) if s.data else self.shards
        train, held, row_mod = split_eval(shards, bool(self.cfg.eval_every))
        self.loader = Loader(
            train,
            self.tok,
            seq_len=s.seq_len,
            micro_batch=self.sched.micro_batch[index],
            n_streams=self.sched.streams[index],
            rank=self.d.rank,
            world=self.d.world,
            seed=self.cfg.seed + index,
            packing=resolve_packing(s.data or self.cfg.data, self.cfg.packing),  # type: ignore[arg-type]
            row_filter=train_row_filter(row_mod),
        )
        if data_state is not None:
            self.loader.load_state_dict(data_state)
        self.evals = []
        if self.cfg.eval_every:
            self.evals = eval_batches(
                held,
                self.tok,
                seq_len=s.seq_len,
                micro_batch=self.sched.micro_batch[index],
                n_batches=self.cfg.eval_batches,
                row_mod=row_mod,
            )

    def save(self) -> Path:
        """Write a checkpoint atomically (all processes contribute, the main one renames)."""
        from torch.distributed.checkpoint.state_dict import (
            get_model_state_dict,
            get_optimizer_state_dict,
        )

        final = ck.step_dir(self.run_dir, self.step)
        tmp = final.with_name(f".tmp-{final.name}")
        if self.d.main:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        self.d.barrier()
        opts = self._sd_options(False)
        model_sd = get_model_state_dict(self.wrapped, options=opts)
        optim_sd = get_optimizer_state_dict(self.wrapped, self.opt, options=opts)
        data = self.loader.state_dict() if self.loader is not None else None
        torch.save({"rng": ck.rng_state(), "data": data}, tmp / f"trainer-rank{self.d.rank}.pt")
        if self.d.main:
            ck.write_hf_model(tmp, self.raw, model_sd)
            torch.save(optim_sd, tmp / "optim.pt")
            save_tokenizer_dir(self.tok, tmp, self.run_dir / "tokenizer")
            ck.write_generation_config(tmp, eos_id(self.tok))
            state = {
                "step": self.step,
                "tokens": self.tokens_seen,
                "stage": max(self.stage, 0),
                "world": self.d.world,
                "finished": self.step >= self.sched.total_steps,
                "config": self.cfg.model_dump(mode="json"),
                "data_shards": self.data_shards,
                "model": asdict(self.mcfg),
                "schedule": asdict(self.sched),
            }
            (tmp / ck.TRAIN_STATE).write_text(json.dumps(state, indent=2))
        self.d.barrier()
        if self.d.main:
            ck.finalize(tmp, final)
            ck.prune(self.run_dir, self.cfg.keep_checkpoints)
        self.d.barrier()
        self.last_ckpt = final
        self.on_event("checkpoint", {"step": self.step, "path": str(final)})
        return final

    # ---------------------------------------------------------------- steps

    def _autocast(self) -> Any:
        if not self.amp:
            return nullcontext()
        return torch.autocast(device_type=self.d.device.type, dtype=torch.bfloat16)

    def train_step(self, lr: float) -> tuple[float, float, int, dict[str, Any]]:
        """One optimiser step; returns (LM loss, grad norm, tokens in the global batch,
        router metrics: the load-balancing loss and expert shares of an MoE model)."""
        assert self.loader is not None
        micro = self.loader.next_step()
        counts = [int((b["labels"] != -100).sum()) for b in micro]
        valid = self.d.sum(sum(counts))
        coef = self.raw.config.router_aux_loss_coef
        loss_sum, aux_sum, shares = 0.0, 0.0, None
        for i, b in enumerate(micro):
            dl.set_grad_sync(self.model, i == len(micro) - 1)
            b = {k: v.to(self.d.device, non_blocking=True) for k, v in b.items()}
            with self._autocast():
                loss = self.model(**b)
            objective = loss
            stats = self.raw.router_stats
            if stats is not None:  # MoE: the balance loss, weighted like the LM loss by tokens
                if coef > 0:
                    objective = loss + coef * stats.aux_loss * counts[i]
                aux_sum += float(stats.aux_loss.detach()) * counts[i]
                share = stats.expert_share.detach()
                shares = share if shares is None else shares + share
            # DDP/FSDP average gradients over processes, hence the world factor
            (objective * (self.d.world / max(valid, 1.0))).backward()
            loss_sum += float(loss.detach())
        mean = self.d.sum(loss_sum) / max(valid, 1.0)
        if not math.isfinite(mean):
            raise DivergedError(f"loss is {mean} at step {self.step + 1}; {self._diverged()}")
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.optim.grad_clip)
        if not math.isfinite(float(norm)):  # clipping by a NaN norm would make every weight NaN
            raise DivergedError(
                f"gradient norm is {float(norm)} at step {self.step + 1}; {self._diverged()}"
            )
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        tokens = sum(b["input_ids"].numel() for b in micro) * self.d.world
        router: dict[str, Any] = {}
        if shares is not None:
            per_layer = (self.d.sum_tensor(shares) / (len(micro) * self.d.world)).cpu()
            router = {
                "aux_loss": self.d.sum(aux_sum) / max(valid, 1.0),
                "aux_coef": coef,
                # mean over sparse layers; the worst layer's busiest expert shows collapse
                "expert_share": [round(float(x), 4) for x in per_layer.mean(0)],
                "expert_share_max": round(float(per_layer.max()), 4),
            }
        return mean, float(norm), tokens, router

    def _diverged(self) -> str:
        """What a non-finite loss or gradient at the coming step means and what to do.

        At the first step of a fresh run (or a resumed one) nothing has been trained yet:
        the weights it started from are the cause, and lowering the lr and ``--resume``
        would only diverge again."""
        head = "stopped before updating the weights"
        first = self.step == (self.saved["step"] if self.saved else 0)
        if first and ck.non_finite_weights(self.raw):
            if self.resume_from is not None:
                return (
                    f"{head}: the weights of {self.resume_from} are not finite. Delete that "
                    "checkpoint to resume from an earlier one, or --overwrite"
                )
            if self.cfg.init_from:
                return (
                    f"{head}: the initial weights are not finite (NaN or inf); check the "
                    f"--init-from checkpoint {self.cfg.init_from}"
                )
            return f"{head}: the initial weights are not finite; check the model's init settings"
        return (
            f"{head}. Last good checkpoint: {self.last_ckpt or 'none'}. "
            "Lower the learning rate and --resume"
        )

    @torch.no_grad()
    def evaluate(self) -> float | None:
        if not self.evals:
            return None
        self.model.eval()
        total, count = 0.0, 0
        for b in self.evals:
            b = {k: v.to(self.d.device) for k, v in b.items()}
            with self._autocast():
                total += float(self.model(**b))
            count += int((b["labels"] != -100).sum())
        self.model.train()
        return total / max(count, 1)

    # ---------------------------------------------------------------- the run

    def run(self, stop_at: int | None = None) -> TrainResult:
        """Train to the end of the schedule (or stop after step ``stop_at``, keeping the
        full run's schedule: what a preempted job does)."""
        if self.done is not None:
            return self._finished_result(self.done)
        self._build()
        total = self.sched.total_steps
        info = {
            "total_steps": total,
            "start_step": self.step,
            "params": self.n_params,
            "batch_tokens": self.sched.batch_tokens,
            "lr": self.sched.lr,
            "plan": self.sched.plan,
            "world": self.d.world,
            "device": str(self.d.device),
            "note": self.sched.note,
            "compile": self.compiled,
        }
        self.on_event("start", info)
        metrics = self.run_dir / "metrics.jsonl"
        if self.d.main:
            (self.run_dir / "plan.json").write_text(json.dumps(info, indent=2))
            if self.resume_from is None:
                metrics.write_text("")
            else:  # rows past the checkpoint were trained again after it: drop the old ones
                rundir.truncate_metrics(metrics, self.step)
        last_loss = eval_loss = None
        end = total if stop_at is None else min(total, stop_at)
        if self.step >= end:  # --max-steps 0, or nothing left: make sure a checkpoint exists
            if self.resume_from is None:
                self.save()
            return self._result(last_loss, eval_loss)
        self.model.train()
        while self.step < end:
            stage = self.sched.stage_at(self.step)
            if stage != self.stage:
                self._enter_stage(stage)
            seq_len = self.cfg.effective_stages()[stage].seq_len
            lr = prepare.lr_at(self.step, total, self.sched.lr, self.cfg)
            t0 = time.perf_counter()
            last_loss, norm, tokens, router = self.train_step(lr)
            dt = time.perf_counter() - t0
            self.step += 1
            self.tokens_seen += tokens
            rec: dict[str, Any] = {
                "step": self.step,
                "loss": last_loss,
                "lr": lr,
                "grad_norm": norm,
                "tokens_per_s": tokens / dt,
                "mfu": None,
                "tokens": self.tokens_seen,
                "stage": stage,
                "seq_len": seq_len,
                **router,
            }
            if self.peak:
                flops = self.raw.config.flops_per_token(seq_len) * tokens / dt
                rec["mfu"] = flops / (self.peak * self.d.world)
            if self.cfg.eval_every and (self.step % self.cfg.eval_every == 0 or self.step == end):
                eval_loss = rec["eval_loss"] = self.evaluate()
                if eval_loss is not None and not math.isfinite(eval_loss):
                    # the update of this step broke the weights: never log or save them
                    raise DivergedError(
                        f"eval loss is {eval_loss} after step {self.step}: the weights are no "
                        f"longer finite; not saved. Last good checkpoint: "
                        f"{self.last_ckpt or 'none'}. Lower the learning rate and --resume"
                    )
            if self.step % self.cfg.log_every == 0 or "eval_loss" in rec:  # every process
                if empty := self._skipped_empty():
                    rec["skipped_empty_text"] = empty
            if self.d.main and (self.step % self.cfg.log_every == 0 or "eval_loss" in rec):
                with metrics.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
            self.on_event("step", rec)
            if self.step % self.cfg.save_every == 0 or self.step == end:
                self.save()
        return self._result(last_loss, eval_loss)

    def _result(self, loss: float | None, eval_loss: float | None) -> TrainResult:
        return TrainResult(
            out=self.run_dir,
            steps=self.step,
            tokens=self.tokens_seen,
            final_loss=loss,
            eval_loss=eval_loss,
            checkpoint=self.last_ckpt or ck.latest_checkpoint(self.run_dir),  # type: ignore[arg-type]
            params=self.n_params,
            batch_tokens=self.sched.batch_tokens,
            lr=self.sched.lr,
            plan=self.sched.plan,
            note=self.sched.note,
            skipped_empty_text=self._skipped_empty(),
        )

    def _skipped_empty(self) -> int:
        """Empty or whitespace-only documents the loaders skipped (all processes: every
        process must call this)."""
        return int(self.d.sum(self.loader.empty if self.loader is not None else 0))

    def _finished_result(self, state: dict[str, Any]) -> TrainResult:
        """The result of a run that had already finished with this config."""
        rows = rundir.read_metrics(self.run_dir / "metrics.jsonl")
        losses = [r["loss"] for r in rows if r.get("loss") is not None]
        evals = [r["eval_loss"] for r in rows if r.get("eval_loss") is not None]
        sched = state["schedule"]
        mcfg = ModelConfig(**state["model"])
        info = {"step": state["step"], "path": str(self.run_dir)}
        self.on_event("finished", info)
        return TrainResult(
            out=self.run_dir,
            steps=state["step"],
            tokens=state["tokens"],
            final_loss=losses[-1] if losses else None,
            eval_loss=evals[-1] if evals else None,
            checkpoint=ck.latest_checkpoint(self.run_dir),  # type: ignore[arg-type]
            params=mcfg.num_params(),
            batch_tokens=sched["batch_tokens"],
            lr=sched["lr"],
            plan=sched["plan"],
            already_done=True,
        )
