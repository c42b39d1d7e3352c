"""``qurate augment ingest``: dedicated math and code corpora into the data contract.

Inputs are corpus files (JSONL / Parquet / text, read by curate's ``InputReader``, which
never drops a record) and, for ``--domain code``, file-per-document code trees: every file
under a folder whose extension names a programming or data language
(``qurate.filters.code.LANGUAGE_BY_EXTENSION``) is one document with
``meta["path"]`` and ``meta["language"]``. Files of neither kind (images, archives) are not
documents; the manifest counts them by extension under ``skipped_files``.

Every document then goes through curate's ``Normalize`` (LaTeX-safe: no NFKC, backslashes
and dollars untouched), is tagged with ``domain`` (and, for math, ``scores["math_density"]``),
and code documents go through ``CodeFilter``. A repeated id is renamed ``<id>~n`` exactly as
curate renames it (``qurate.dedup.ids``; the documents pass through a work file for that).
``ContractWriter`` writes the stage directory (token counts with the bundled tokenizer) and
the manifest checks ``in == kept + rejected``.
The steps run in this process, one task; they are datatrove steps, so the same chain runs
on a datatrove executor for a corpus that needs a cluster.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from pydantic import BaseModel, ConfigDict, Field, model_validator

from qurate.contract.files import MANIFEST, file_problem, files_under
from qurate.contract.shards import config_hash
from qurate.contract.stagedir import StageDir, fingerprint
from qurate.contract.steps import (
    ContractWriter,
    WorkReader,
    WorkWriter,
    resolve_tokenizer,
    write_stage_manifest,
)
from qurate.dedup.ids import IdIndex, UniqueIds, renamed_count
from qurate.errors import BadInputError, ConfigError
from qurate.filters.code import CodeFilter, CodeFilterConfig, document_language, language_of
from qurate.filters.math_features import math_density
from qurate.filters.normalize import Normalize
from qurate.readers.code import CodeFileReader
from qurate.readers.inputs import (
    JSONL_SUFFIXES,
    PARQUET_SUFFIXES,
    InputFile,
    InputReader,
    check_field_keys,
    list_inputs,
)

STAGE = "augment_ingest"
DOMAINS = ("math", "code")
# In a code tree these are corpora, not source files (.json is a source/config file there).
_CORPUS_SUFFIXES = tuple(s for s in JSONL_SUFFIXES if s != ".json") + PARQUET_SUFFIXES


class IngestConfig(BaseModel):
    """``qurate augment ingest`` options."""

    model_config = ConfigDict(extra="forbid")

    text_key: str = Field("text", description="field holding the text in JSONL/Parquet corpora")
    id_key: str = Field("id", description="field holding the document id")
    max_chars: int = Field(1_000_000, ge=1, description="longer documents are rejected (too_long)")
    code_filters: bool = Field(True, description="run the code filters on code documents")
    code: CodeFilterConfig = Field(
        default_factory=CodeFilterConfig, description="code filter thresholds (--domain code)"
    )
    tokenizer: str | None = Field(None, description="tokenizer.json for n_tokens; none = bundled")
    rows_per_shard: int = Field(50_000, ge=1, description="documents per output Parquet shard")

    @model_validator(mode="after")
    def _field_keys(self) -> IngestConfig:
        check_field_keys(self.text_key, self.id_key)
        return self


def _is_corpus(path: Path) -> bool:
    return path.name.lower().endswith(_CORPUS_SUFFIXES)


def plan_inputs(
    inputs: list[str | Path], domain: str
) -> tuple[list[InputFile], list[tuple[str, str, str]], Counter[str]]:
    """Split inputs into corpus files, code files ``(path, rel, language)`` and skipped files."""
    corpora: list[Path] = []
    code: list[tuple[str, str, str]] = []
    skipped: Counter[str] = Counter()
    seen: set[Path] = set()
    for arg in inputs:
        root = Path(arg)
        if not root.exists():
            raise BadInputError(f"{root}: no such file or directory")
        if root.resolve() in seen:  # with no dedup here, its documents were ingested twice
            raise BadInputError(f"{root}: given twice as an input")
        seen.add(root.resolve())
        if not root.is_dir() and (why := file_problem(root)) is not None:
            raise BadInputError(f"{root}: {why}")  # a FIFO was "no documents in" it
        if root.is_file():
            lang = language_of(root.name) if domain == "code" and not _is_corpus(root) else None
            if lang and root.suffix.lower() != ".json":
                code.append((str(root), root.name, lang))
            else:
                corpora.append(root)  # list_inputs names an unknown format
            continue
        stage_of = _StageOf(root)
        for p in files_under(root):  # not rglob: it recursed per level (~1,000 deep)
            if any(part.startswith(".") for part in p.relative_to(root).parts):
                continue
            stage = stage_of(p.parent)
            if stage is not None:  # only a stage directory's kept shards are documents
                if p.parent == stage and p.name.startswith("part-") and p.suffix == ".parquet":
                    corpora.append(p)
                else:
                    skipped["stage directory entry (only part-*.parquet are read)"] += 1
                continue
            lang = language_of(p.name) if domain == "code" and not _is_corpus(p) else None
            if lang:
                code.append((str(p), f"{root.name}/{p.relative_to(root).as_posix()}", lang))
            elif _is_corpus(p) or p.name.lower().endswith((".json", ".txt", ".md", ".rst")):
                corpora.append(p)
            else:
                skipped[p.suffix.lower() or p.name] += 1
    files = list_inputs(corpora) if corpora else []
    if not files and not code:
        raise BadInputError(
            f"no documents in {', '.join(map(str, inputs))} (for --domain {domain})"
        )
    return files, code, skipped


class _StageOf:
    """The stage directory (one holding a ``manifest.json``, as curate's reader tells one)
    a folder under ``root`` lies in, or None. Walked like any folder, a stage directory fed
    its ``rejects/`` back in as documents and its manifest and stats as ``malformed_json``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: dict[Path, Path | None] = {}

    def __call__(self, folder: Path) -> Path | None:
        # a loop, not recursion up the parents: a tree ~1,000 levels deep was a RecursionError
        chain: list[Path] = []
        while folder not in self.known and folder != self.root and folder.parent != folder:
            chain.append(folder)
            folder = folder.parent
        if folder not in self.known:
            self.known[folder] = folder if (folder / MANIFEST).is_file() else None
        up = self.known[folder]
        for f in reversed(chain):
            up = up or (f if (f / MANIFEST).is_file() else None)
            self.known[f] = up
        return up


class DomainTagger(PipelineStep):
    """Sets ``domain``; code: the language in ``meta``; math: ``scores["math_density"]``."""

    name = "🏷 domain tag"
    type = "🏷 - TAGGER"

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain
        self.languages: Counter[str] = Counter()

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            doc.metadata["domain"] = self.domain
            if self.domain == "math":
                doc.metadata["scores"] = {
                    **(doc.metadata.get("scores") or {}),
                    "math_density": round(math_density(doc.text), 4),
                }
            else:
                language = document_language(doc)
                if language is not None:
                    meta = doc.metadata.setdefault("meta", {})
                    if isinstance(meta, dict):
                        meta.setdefault("language", language)
                self.languages[language or "unknown"] += 1
            yield doc


def _chain(*readers: PipelineStep) -> Iterator[Document]:
    for r in readers:
        yield from r.run(None, 0, 1)


def ingest(
    inputs: list[str | Path],
    out_dir: str | Path,
    domain: str,
    cfg: IngestConfig | None = None,
    *,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Read math or code corpora / code trees into the stage directory ``out_dir``.

    Rerun policy (``StageDir``): the same run again is a no-op, an interrupted one restarts
    in place, a different one needs ``overwrite``."""
    cfg = cfg or IngestConfig()
    if domain not in DOMAINS:
        raise ConfigError(f"domain {domain!r}: expected one of {', '.join(DOMAINS)}")
    out = Path(out_dir)
    files, code, skipped = plan_inputs(list(inputs), domain)
    names = [f.path for f in files] + [c[0] for c in code]
    resolve_tokenizer(cfg.tokenizer)  # a bad tokenizer: path fails here, not in the writer
    with StageDir(out, STAGE, overwrite=overwrite, inputs=inputs) as sd:
        done = sd.begin(fingerprint(cfg, names, domain=domain), resume=False)
        if done is not None:
            return done
        manifest = _ingest(files, code, skipped, names, sd, domain, cfg)
        sd.done()
    return manifest


def _ingest(files, code, skipped, names, sd: StageDir, domain: str, cfg: IngestConfig):
    t0 = time.perf_counter()
    out = sd.path
    counts = out / ".work" / "counts"
    tagger = DomainTagger(domain)
    steps: list[PipelineStep] = [Normalize(), tagger]
    if domain == "code" and cfg.code_filters:
        steps.append(CodeFilter(cfg.code))
    data: DocumentsPipeline = _chain(
        InputReader(files, text_key=cfg.text_key, id_key=cfg.id_key, max_chars=cfg.max_chars),
        CodeFileReader(code, max_chars=cfg.max_chars),
    )
    for step in steps:
        data = step.run(data, 0, 1)
    # Ids unique in the stage directory, as curate makes them (qurate.dedup.ids): every
    # document to a work file, the renames over all ids, then the documents renamed in order.
    docs, ids = out / ".work" / "docs", out / ".work" / "ids"
    for _ in WorkWriter(str(docs)).run(data, 0, 1):
        pass
    IdIndex(docs, ids, stage1_tasks=1).run(None, 0, 1)
    data = UniqueIds(ids).run(WorkReader(str(docs)).run(None, 0, 1), 0, 1)
    writer = ContractWriter(
        str(out),
        str(counts),
        tokenizer=resolve_tokenizer(cfg.tokenizer),
        rows_per_shard=cfg.rows_per_shard,
    )
    for _ in writer.run(data, 0, 1):
        pass
    manifest = write_stage_manifest(
        out,
        counts,
        tasks=1,
        stage=STAGE,
        config_hash=config_hash(cfg),
        inputs=names,
        extra={
            "fingerprint": sd.fingerprint,
            "domain": domain,
            "languages": dict(tagger.languages.most_common()) if domain == "code" else None,
            "skipped_files": dict(skipped.most_common()),
            "renamed_ids": renamed_count(ids),
            "elapsed_s": round(time.perf_counter() - t0, 3),
        },
    )
    return manifest


__all__ = ["CodeFileReader", "DomainTagger", "IngestConfig", "ingest", "plan_inputs"]
