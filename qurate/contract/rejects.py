"""The filter step every qurate decision uses: mark, don't drop.

A datatrove ``BaseFilter`` drops a document and, at best, hands it to an exclusion writer.
qurate must account for every document (``in == kept + rejected``) and write rejects in the
pinned schema with the stage that dropped them, so a ``QurateFilter`` *marks* a rejected
document (``metadata["reject_reason"]``, ``["reject_stage"]``, ``["reject_detail"]``) and
passes it on. Later filters skip marked documents; the stage writer routes them to
``rejects/``. ``filter()`` has datatrove's signature, so rules read the same either way.

Keys in ``doc.metadata`` that start with ``_`` are per-process caches (e.g. the word
tokenisation shared by all heuristics) and are never written.
"""

from __future__ import annotations

from abc import abstractmethod

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched

REJECT_REASON = "reject_reason"
REJECT_STAGE = "reject_stage"
REJECT_DETAIL = "reject_detail"


def is_rejected(doc: Document) -> bool:
    return REJECT_REASON in doc.metadata


def reject(doc: Document, reason: str, stage: str, detail: str | None = None) -> None:
    """Mark a document rejected (first reason wins)."""
    if REJECT_REASON in doc.metadata:
        return
    doc.metadata[REJECT_REASON] = reason
    doc.metadata[REJECT_STAGE] = stage
    if detail is not None:
        doc.metadata[REJECT_DETAIL] = detail


class QurateFilter(PipelineStep):
    """Base for qurate's filters: ``filter(doc) -> bool | (False, reason) | (False, reason, detail)``.

    Subclasses set ``name`` (used in stats) and ``stage`` (written to rejects; defaults to
    ``name``). Override ``filter_batch`` for batched work (language ID, model scoring).
    """

    type = "🔻 - FILTER"
    name = "qurate filter"
    stage: str | None = None
    batch_size = 1

    @abstractmethod
    def filter(self, doc: Document) -> bool | tuple:
        raise NotImplementedError

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple]:
        return [self.filter(doc) for doc in batch]

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        stage = self.stage or self.name
        for batch in batched(data, self.batch_size):
            live = [doc for doc in batch if not is_rejected(doc)]
            if live:
                with self.track_time("batch" if self.batch_size > 1 else None):
                    results = self.filter_batch(live)
                for doc, result in zip(live, results, strict=True):
                    self.stat_update("total")
                    if result is True or (isinstance(result, tuple) and result[0]):
                        self.stat_update("forwarded")
                        continue
                    reason = result[1] if isinstance(result, tuple) and len(result) > 1 else stage
                    detail = result[2] if isinstance(result, tuple) and len(result) > 2 else None
                    self.stat_update("dropped", f"dropped_{reason}")
                    reject(doc, reason, stage, detail)
            yield from batch
