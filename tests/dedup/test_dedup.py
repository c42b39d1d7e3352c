"""Exact and near-dedup through all three stages, on real text.

English documents are the docstrings of Python's standard library (real prose that ships
with every interpreter); the Chinese ones are excerpts of the Debian Reference (zh-CN,
GPL-2+, https://www.debian.org/doc/manuals/debian-reference/).
"""

from __future__ import annotations

import importlib
import inspect
import random
import re

import pytest
from datatrove.data import Document
from pydantic import ValidationError

from qurate.contract.rejects import REJECT_DETAIL, REJECT_REASON, REJECT_STAGE, reject
from qurate.dedup.cluster import connected_components
from qurate.dedup.steps import DedupConfig, DedupFilter, DedupSignatures, run_dedup_index
from qurate.dedup.tokens import tokenize_hashes
from qurate.errors import EngineError

MODULES = (
    "argparse logging subprocess pickle json unittest doctest difflib heapq bisect textwrap "
    "string shutil tarfile zipfile csv sqlite3 inspect dataclasses functools itertools "
    "collections contextlib threading pathlib re datetime decimal fractions random "
    "statistics socket tempfile glob fnmatch pprint enum copy weakref io os"
).split()

ZH = [
    "我们明了，某些我们的用户需要使用不符合 Debian 自由软件指导方针的作品。我们为这些作品，在我们的档案库中留出了"
    "“contrib”以及“non-free”目录。在这些目录下的软件包，并不属于 Debian 系统，尽管它们已被配置成可以在 Debian "
    "下使用。我们鼓励光盘制造商阅读这些目录下的软件的许可证，以判断他们是否可以在光盘中发行这些软件。所以，尽管非自由"
    "软件并非 Debian 系统的一部分，我们仍支持它们的使用，并且我们为非自由软件提供了公共资源（诸如我们的缺陷跟踪系统"
    "以及邮件列表）。用户应该了解使用 non-free 和 contrib 中的软件包所需要冒的风险：使用类似的软件包会失去自由，"
    "失去 Debian 对软件包的支持。",
    "dpkg-divert 命令提供的文件转移功能，是强制 dpkg 不将文件安装到其默认位置，而是安装到被转移的位置。dpkg-divert "
    "专用于软件包维护脚本。不建议系统管理员随意使用它。当运行测试版或不稳定版系统，系统管理员会遇到从错误的软件包管理"
    "进行恢复的情形。下面的一些方法具有很高的风险。如果你通过强制安装一个软件包到系统，而不安装它所依赖的所有软件包，"
    "这个软件包将作为“部分安装”而失败。你应当安装所有依赖的软件包，然后使用下列命令来配置所有部分安装的软件包。",
    "如果一个桌面 GUI 程序在重要的上游版本升级后变得不稳定，你应该怀疑这是旧的本地配置文件所导致的。如果它在新建的"
    "用户账号下运行稳定，那么这个假设就得到了证实。这是一个打包的 bug 并且打包者通常会避免它。为了恢复稳定，你应该"
    "移除相应的本地配置文件并重新启动 GUI 程序。你可能需要阅读旧的配置文件内容以便之后恢复配置信息。别将它们删得"
    "太快了。文档级的软件包管理系统使用软件包依赖，当出现相同文件时，不会尝试去安装软件包。",
    "新手用 apt-pinning 命令会造成比较大的问题。你必须避免使用这个命令除非确实需要它。没有偏好设置文件，APT 系统"
    "使用版本字符串来选择最新的可用版本作为候选版本。这是通常的状态，也是 APT 系统最推荐的使用方法。所有官方支持的"
    "档案库集合，并不要求偏好设置文件，因此，一些不应当被作为自动更新源的软件包，被标记为 NotAutomatic，并被适当处理。",
]

HEADER = (
    "Skip to main content. Home | Documentation | Downloads | Community | Blog | About. "
    "You are reading the documentation for the stable release."
)
FOOTER = (
    "Copyright the contributors. Permission is granted to copy, distribute and modify this "
    "document under the terms of the GNU General Public License, version 2 or later. "
    "Privacy policy. Terms of use. Report a problem with this page."
)


def _bigrams(text: str) -> set[tuple[str, str]]:
    words = re.findall(r"\w+", text.lower())
    return set(zip(words, words[1:], strict=False))


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / max(1, len(a | b))


@pytest.fixture(scope="module")
def english() -> list[str]:
    """~30 real, mutually dissimilar English documents of 80-600 words."""
    docs: list[str] = []
    sets: list[set] = []
    for name in MODULES:
        mod = importlib.import_module(name)
        for obj in [mod, *(getattr(mod, a) for a in sorted(vars(mod)) if not a.startswith("_"))]:
            doc = inspect.getdoc(obj) if (inspect.ismodule(obj) or inspect.isclass(obj)) else None
            if not doc or not 80 <= len(doc.split()) <= 600:
                continue
            s = _bigrams(doc)
            if all(_jaccard(s, o) < 0.15 for o in sets):
                docs.append(doc)
                sets.append(s)
    assert len(docs) >= 25, "the standard library should give enough docstrings"
    return docs[:30]


def edit_words(text: str, rate: float, seed: int) -> str:
    """Substitute, delete or insert ``rate`` of the words (at least one)."""
    rng = random.Random(seed)
    words = text.split()
    vocab = [
        "alpha",
        "river",
        "quietly",
        "seven",
        "blue",
        "engine",
        "paper",
        "north",
        "said",
        "over",
    ]
    for pos in sorted(
        rng.sample(range(len(words)), max(1, round(rate * len(words)))), reverse=True
    ):
        op = rng.random()
        if op < 0.5:
            words[pos] = rng.choice(vocab)
        elif op < 0.75:
            del words[pos]
        else:
            words.insert(pos, rng.choice(vocab))
    return " ".join(words)


def edit_chars(text: str, rate: float, seed: int) -> str:
    rng = random.Random(seed)
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    for pos in rng.sample(han, max(1, round(rate * len(han)))):
        chars[pos] = rng.choice(
            "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"
        )
    return "".join(chars)


def curate(tasks: list[list[Document]], work_dir, cfg: DedupConfig) -> dict[str, dict]:
    """Run the three stages (each task twice from fresh Documents, as a re-read from disk
    would); return every output document's metadata by id."""
    world = len(tasks)

    def fresh(r: int) -> list[Document]:
        return [Document(text=d.text, id=d.id, metadata=dict(d.metadata)) for d in tasks[r]]

    for r in range(world):
        out = list(DedupSignatures(work_dir, cfg).run(iter(fresh(r)), r, world))
        assert [d.id for d in out] == [d.id for d in tasks[r]]
    run_dedup_index(work_dir, cfg, workers=2)
    result: dict[str, dict] = {}
    for r in range(world):
        for d in DedupFilter(work_dir).run(iter(fresh(r)), r, world):
            assert d.id not in result
            result[d.id] = d.metadata
    assert len(result) == sum(len(t) for t in tasks), "every document comes out, kept or rejected"
    return result


def dropped(result: dict[str, dict]) -> dict[str, str]:
    return {i: m[REJECT_DETAIL] for i, m in result.items() if m.get(REJECT_REASON) == "duplicate"}


def test_exact_copies_across_tasks_point_to_first_occurrence(tmp_path, english):
    a, b, c = english[:3]
    tasks = [
        [Document(text=a, id="a"), Document(text=b, id="b")],
        [
            Document(text="  " + a.upper().replace(" ", "\n  "), id="a-shouted"),
            Document(text=c, id="c"),
        ],
        [Document(text=b, id="b-again"), Document(text=a, id="a-again")],
        [],  # a task with no documents
    ]
    result = curate(tasks, tmp_path, DedupConfig())
    assert dropped(result) == {"a-shouted": "a", "b-again": "b", "a-again": "a"}
    assert result["a-again"][REJECT_STAGE] == "dedup_exact"
    assert REJECT_REASON not in result["a"] and REJECT_REASON not in result["c"]


@pytest.mark.parametrize("rate", [0.02, 0.05, 0.10])
def test_near_copies_caught_and_unrelated_kept(tmp_path, english, rate):
    originals = [Document(text=t, id=f"doc{i}") for i, t in enumerate(english)]
    # A third of the documents share a site header and footer: still unrelated.
    for d in originals[::3]:
        d.text = f"{HEADER}\n\n{d.text}\n\n{FOOTER}"
    copies = [
        Document(text=edit_words(d.text, rate, seed=i), id=f"copy{i}")
        for i, d in enumerate(originals)
    ]
    tasks = [originals[:15] + copies[15:], copies[:15] + originals[15:]]
    result = curate(tasks, tmp_path, DedupConfig())
    # Survivor = lowest (task, index): the original for the first 15, the copy for the rest.
    expected = {f"copy{i}": f"doc{i}" for i in range(15)} | {
        f"doc{i}": f"copy{i}" for i in range(15, 30)
    }
    assert dropped(result) == expected
    assert {result[i][REJECT_STAGE] for i in expected} == {"dedup_minhash"}


def test_chinese_near_copies(tmp_path):
    docs = [Document(text=t, id=f"zh{i}") for i, t in enumerate(ZH)]
    copies = [
        Document(text=edit_chars(t, 0.05, seed=i), id=f"zh-copy{i}") for i, t in enumerate(ZH)
    ]
    result = curate([docs, copies], tmp_path, DedupConfig())
    assert dropped(result) == {f"zh-copy{i}": f"zh{i}" for i in range(len(ZH))}


def test_rejected_documents_pass_untouched_and_count(tmp_path, english):
    junk = Document(text=english[0], id="junk")
    reject(junk, "gopher", "heuristics", "too short")
    tasks = [[junk, Document(text=english[1], id="b")], [Document(text=english[0], id="a")]]
    result = curate(tasks, tmp_path, DedupConfig())
    # The rejected copy gets no signature, so the live one is not its duplicate.
    assert result["junk"][REJECT_REASON] == "gopher"
    assert REJECT_REASON not in result["a"]
    assert dropped(result) == {}


def test_stage3_must_read_the_same_documents(tmp_path, english):
    cfg = DedupConfig()
    docs = [Document(text=t, id=f"d{i}") for i, t in enumerate(english[:4])]
    list(DedupSignatures(tmp_path, cfg).run(iter(docs), 0, 1))
    run_dedup_index(tmp_path, cfg)
    with pytest.raises(EngineError, match="same order"):
        list(DedupFilter(tmp_path).run(iter(docs[::-1]), 0, 1))
    with pytest.raises(EngineError, match="read 3 documents"):
        list(DedupFilter(tmp_path).run(iter(docs[:3]), 0, 1))
    with pytest.raises(EngineError, match="1 tasks"):
        list(DedupFilter(tmp_path).run(iter(docs), 0, 2))


def test_stage2_waits_for_every_stage1_task(tmp_path, english):
    cfg = DedupConfig()
    list(DedupSignatures(tmp_path, cfg).run(iter([Document(text=english[0], id="x")]), 0, 2))
    with pytest.raises(EngineError, match=r"tasks \[1\] of 2"):
        run_dedup_index(tmp_path, cfg)
    list(DedupSignatures(tmp_path, cfg).run(iter([Document(text=english[1], id="y")]), 1, 2))
    with pytest.raises(EngineError, match="different dedup config"):
        run_dedup_index(tmp_path, cfg.model_copy(update={"threshold": 0.9}))


def test_exact_only_and_near_only(tmp_path, english):
    a = english[0]
    tasks = [
        [
            Document(text=a, id="a"),
            Document(text=a + " ", id="a2"),
            Document(text=edit_words(a, 0.05, 1), id="e"),
        ]
    ]
    assert dropped(curate(tasks, tmp_path / "x", DedupConfig(near=False))) == {"a2": "a"}
    assert dropped(curate(tasks, tmp_path / "n", DedupConfig(exact=False))) == {"a2": "a", "e": "a"}


def test_signatures_work_with_datatrove_buckets(tmp_path, english):
    """Our bucket files are datatrove's format: its own MinhashDedupBuckets pairs the copies."""
    import numpy as np
    from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets

    from qurate.dedup.files import DedupLayout
    from qurate.dedup.minhash import datatrove_minhash_config

    cfg = DedupConfig(bands=8, rows=4)
    docs = [Document(text=t, id=f"d{i}") for i, t in enumerate(english[:6])]
    list(
        DedupSignatures(tmp_path, cfg).run(iter(docs + [Document(text=english[2], id="dup")]), 0, 1)
    )
    lay = DedupLayout(tmp_path)
    step = MinhashDedupBuckets(
        str(lay.sig_dir), str(tmp_path / "dt_pairs"), config=datatrove_minhash_config(cfg)
    )
    for bucket in range(cfg.bands):
        step.run(None, bucket, cfg.bands)
    pairs = np.concatenate(
        [np.fromfile(f, dtype="<u4").reshape(-1, 4) for f in (tmp_path / "dt_pairs").glob("*.dups")]
    )
    assert {tuple(p) for p in pairs.tolist()} == {(0, 2, 0, 6)}


def test_tokens_ignore_case_and_punctuation_and_split_cjk_characters():
    h, off = tokenize_hashes(["Hello, WORLD!", "hello world", "中文测试", "naïve café"])
    assert off.tolist() == [0, 2, 4, 8, 10]
    assert h[0:2].tolist() == h[2:4].tolist()
    assert len(set(h[4:8].tolist())) == 4


def test_connected_components_survivor_is_smallest():
    import numpy as np

    labels = connected_components(np.array([4, 2, 5, 1]), np.array([2, 0, 6, 5]), 7)
    assert labels.tolist() == [0, 1, 0, 3, 0, 1, 1]


def test_config_rejects_unknown_keys():
    with pytest.raises(ValidationError):
        DedupConfig(shingles=3)
