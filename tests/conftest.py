"""Small real-text corpora shared by the curate, dedup, readers, score and report tests."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

# The de-quantised copy of the embedded GGUF judge (qurate/llm/hf.py) goes to a folder of the
# test run's machine, not the user's ~/.cache; every worker and CLI subprocess shares it.
os.environ.setdefault(
    "QURATE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"qurate-test-cache-{os.getuid()}")
)

# The longest files first, so that with `make test`'s workers (pytest-xdist, whole files) the
# demo test (~5 min) starts at once beside the rest instead of last, alphabetically.
FIRST = ("test_run.py", "test_kill_more.py", "test_kill_stages.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: k for k, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))  # stable: order kept


GOOD_EN = [
    "The Amazon River carries more water than any other river on Earth. It drains a basin of about seven million "
    "square kilometres, much of it covered by tropical rainforest. Scientists estimate that the river discharges "
    "around two hundred thousand cubic metres of water into the Atlantic Ocean every second, which is why the "
    "ocean near its mouth is noticeably less salty. The forest around the river is home to an enormous variety "
    "of plants and animals, many of which have not yet been described.",
    "A compiler translates source code written in a high-level language into machine code that a processor can "
    "execute. Most compilers work in phases: the lexer turns characters into tokens, the parser builds a syntax "
    "tree, semantic analysis checks types and scopes, and the back end generates and optimises instructions for "
    "the target machine. Because each phase has a clear interface, the same front end can be reused for several "
    "processors, and the same back end for several languages.",
    "Photosynthesis is the process by which green plants use sunlight to make sugar from carbon dioxide and water. "
    "It takes place mainly in the leaves, inside small structures called chloroplasts, which contain the pigment "
    "chlorophyll. The light-dependent reactions capture energy and release oxygen as a by-product, while the "
    "Calvin cycle uses that energy to fix carbon into organic molecules. Almost all life on the planet depends "
    "directly or indirectly on this process for food and for the oxygen in the air.",
    "The printing press, developed in Europe in the middle of the fifteenth century, changed how knowledge was "
    "shared. Before it, books were copied by hand, which made them rare and expensive. Movable metal type allowed "
    "a workshop to produce hundreds of identical copies in the time a scribe needed for one. Within a few decades "
    "printed books spread across the continent, literacy increased, and new ideas in science and religion "
    "travelled faster than ever before.",
    "Volcanoes form where molten rock from deep inside the Earth reaches the surface. Many of them lie along the "
    "edges of tectonic plates, where one plate sinks beneath another and melts, or where plates pull apart and "
    "magma rises to fill the gap. Some eruptions are explosive and throw ash high into the atmosphere, while "
    "others release slow rivers of lava. The soil around old volcanoes is often very fertile, which is one reason "
    "people continue to live close to them despite the danger.",
    "A balanced diet contains carbohydrates, proteins, fats, vitamins and minerals in suitable proportions. "
    "Carbohydrates are the main source of energy, proteins are needed to build and repair tissues, and fats store "
    "energy and help the body absorb certain vitamins. Fruit and vegetables supply fibre as well as many "
    "micronutrients. Nutritionists generally recommend eating a wide variety of foods rather than relying on "
    "supplements, because whole foods contain many substances that work together.",
]
GOOD_ZH = (
    "长江是中国第一大河，全长约六千三百公里，发源于青藏高原的唐古拉山脉，自西向东流经青海、西藏、四川、云南、重庆、湖北、湖南、"
    "江西、安徽、江苏和上海等省区市，最后注入东海。长江流域气候温和，雨量充沛，土地肥沃，自古以来就是中国重要的农业区。"
    "流域内分布着许多大城市，如重庆、武汉、南京和上海，它们在经济和文化上都有重要地位。三峡工程建成以后，"
    "长江的防洪、发电和航运能力都得到了很大提高。"
)
BENCHMARK_TEXT = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?"
)


def _edit(text: str, every: int) -> str:
    words = text.split()
    return " ".join("banana" if i % every == 7 else w for i, w in enumerate(words))


@pytest.fixture
def corpus(tmp_path: Path) -> dict:
    """Three JSONL files: good text, copies, junk and broken records; plus a benchmark file."""
    d = tmp_path / "in"
    d.mkdir()
    first = [
        {"id": f"en{i}", "text": t, "source": "encyclopedia"} for i, t in enumerate(GOOD_EN[:3])
    ]
    first.append({"id": "zh0", "text": GOOD_ZH, "source": "encyclopedia"})
    second = [
        {"id": f"en{i}", "text": t, "source": "web"} for i, t in enumerate(GOOD_EN[3:], start=3)
    ]
    second += [
        {"id": "exact-copy", "text": GOOD_EN[0], "source": "web"},
        {"id": "near-copy", "text": _edit(GOOD_EN[1], 20), "source": "web"},
        {
            "id": "contaminated",
            "text": GOOD_EN[4][:200] + " " + BENCHMARK_TEXT + " " + GOOD_EN[5][200:],
            "source": "web",
        },
    ]
    third = [
        {"id": "spam", "text": "buy now cheap pills " * 40, "source": "web"},
        {"id": "short", "text": "Click here.", "source": "web"},
        {"id": "blank", "text": "  \n ", "source": "web"},
    ]
    for name, rows in (("a.jsonl", first), ("b.jsonl", second), ("c.jsonl", third)):
        with open(d / name, "w") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(d / "c.jsonl", "a") as fh:
        fh.write('{"id": "broken", "text": \n')
    bench = tmp_path / "gsm8k.jsonl"
    bench.write_text(json.dumps({"id": "gsm8k-0", "text": BENCHMARK_TEXT}) + "\n")
    return {"dir": d, "files": sorted(d.glob("*.jsonl")), "benchmark": bench, "n": 14}
