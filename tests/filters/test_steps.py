"""The filter chain as the curate runner builds it: normalise -> language ID -> web -> heuristics."""

from __future__ import annotations

import filter_samples as samples
import pytest
from datatrove.data import Document
from pydantic import ValidationError

from qurate.contract.rejects import REJECT_REASON, REJECT_STAGE
from qurate.filters.heuristics.rules import Heuristics
from qurate.filters.langid import LanguageID
from qurate.filters.normalize import Normalize
from qurate.filters.steps import FiltersConfig, build_filter_steps
from qurate.filters.web.rules import WebFilter


def run_chain(docs: list[Document], cfg: FiltersConfig | None = None) -> list[Document]:
    data = iter(docs)
    for step in build_filter_steps(cfg):
        data = step.run(data)
    return list(data)


def test_steps_in_order_and_disabled_ones_left_out() -> None:
    assert [type(s) for s in build_filter_steps()] == [
        Normalize,
        LanguageID,
        WebFilter,
        Heuristics,
    ]
    cfg = FiltersConfig.model_validate({"langid": {"enabled": False}})
    assert [type(s) for s in build_filter_steps(cfg)] == [Normalize, WebFilter, Heuristics]


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValidationError, match="heuristic"):
        FiltersConfig.model_validate({"heuristic": {}})
    with pytest.raises(ValidationError, match="min_score"):
        FiltersConfig.model_validate({"langid": {"min_score": "high"}})


def test_good_documents_of_every_kind_pass_the_whole_chain() -> None:
    texts = {
        "en_docs": samples.EN_DOCS,
        "zh": samples.ZH_LITERATURE,
        "ja": samples.JA_DOCS,
        "math": samples.MATH_DOC,
        "py": samples.PY_CODE,
        "c": samples.C_CODE,
        "ruby": samples.RUBY_CODE,
        "perl": samples.PERL_CODE,
        "quotes": samples.QUOTES_PT,
    }
    docs = run_chain([Document(text=t, id=k) for k, t in texts.items()])
    rejected = {
        d.id: (d.metadata[REJECT_REASON], d.metadata.get("reject_detail"))
        for d in docs
        if REJECT_REASON in d.metadata
    }
    assert rejected == {}
    by_id = {d.id: d for d in docs}
    assert by_id["zh"].metadata["lang"] == "zh" and by_id["ja"].metadata["lang"] == "ja"
    assert by_id["quotes"].metadata["lang"] == "pt"
    assert all(by_id[k].metadata["is_code"] for k in ("py", "c", "ruby", "perl"))
    assert not any(by_id[k].metadata["is_code"] for k in ("en_docs", "zh", "ja", "math", "quotes"))


def test_repairable_mojibake_is_repaired_and_kept() -> None:
    broken = samples.QUOTES_PT.encode("utf-8").decode("cp1252")
    (doc,) = run_chain([Document(text=broken, id="m")])
    assert doc.text == samples.QUOTES_PT
    assert doc.metadata["normalized"] == ["mojibake"] and REJECT_REASON not in doc.metadata


def test_each_stage_records_itself_on_its_rejects() -> None:
    docs = run_chain(
        [
            Document(text=" \n ", id="empty"),
            Document(text=samples.EN_DOCS, id="lang"),
            Document(text="Lorem ipsum dolor sit amet. " + samples.EN_DOCS, id="lorem"),
        ],
        FiltersConfig.model_validate({"langid": {"languages": ["zh", "ja", "en"]}}),
    )
    got = {d.id: (d.metadata.get(REJECT_REASON), d.metadata.get(REJECT_STAGE)) for d in docs}
    assert got == {
        "empty": ("empty", "normalize"),
        "lang": (None, None),
        "lorem": ("c4_lorem_ipsum", "heuristics"),
    }
    only_de = FiltersConfig.model_validate({"langid": {"languages": ["de"]}})
    (doc,) = run_chain([Document(text=samples.EN_DOCS, id="x")], only_de)
    assert (doc.metadata[REJECT_REASON], doc.metadata[REJECT_STAGE]) == ("lang", "langid")


def test_steps_pickle_for_executor_workers() -> None:
    import pickle

    steps = build_filter_steps()
    LanguageID().filter(Document(text="warm the model cache", id="w"))
    clones = pickle.loads(pickle.dumps(steps))
    (doc,) = run_chain([Document(text=samples.EN_DOCS, id="p")])
    data = iter([Document(text=samples.EN_DOCS, id="p")])
    for step in clones:
        data = step.run(data)
    (clone_doc,) = list(data)
    assert clone_doc.metadata["lang"] == doc.metadata["lang"] == "en"
