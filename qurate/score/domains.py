"""The domain classifier that labels every document for the mixer, without a strong judge.

The judge's domain label is a single guess from a small model (in the demo the embedded judge
labelled all 24 annotations ``technology``), so a classifier distilled from it may not exist
or may know one label. ``score apply`` therefore labels domains with a fastText classifier
shipped in the package, ``qurate/data/domains_v1.ftz``, trained by ``bench/score_domains.py``
on the bundled sample's real text, labelled by the package each record comes from (man pages,
the Debian Reference and the Python docs -> ``technology``; the KJV and fortune anthologies ->
``literature``; source files -> ``code``; sympy docstrings -> ``math``). It knows those four
labels of the taxonomy only; held-out accuracy and the confusion are in bench/RESULTS.md.
``score.apply.domains`` takes another fastText model (any labels), or null for the raters'
judge-distilled domain model (the better choice with a capable judge).

Labels are the taxonomy's spelling (``qurate.score.judge.DEFAULT_TAXONOMY``), which is also
what mix configs name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qurate.errors import BadInputError
from qurate.llm.fasttext import clean, load_model, nan_guard

DOMAINS_MODEL = Path(__file__).resolve().parents[1] / "data" / "domains_v1.ftz"
MAX_CHARS = 4000  # the characters of a document the shipped model was trained on
PREFIX = "__label__"


class DomainClassifier:
    """A fastText domain model: ``predict(texts)`` -> (labels, probabilities)."""

    def __init__(self, path: str | Path = "default") -> None:
        self.path = DOMAINS_MODEL if str(path) == "default" else Path(path)
        if not self.path.is_file():
            raise BadInputError(f"{self.path}: no such domain model (score.apply.domains)")
        self.model = load_model(self.path)

    @property
    def labels(self) -> list[str]:
        return sorted(lab[len(PREFIX) :] for lab in self.model.get_labels())

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        lines = [clean(t, MAX_CHARS) for t in texts]
        with nan_guard(str(self.path)):
            labels, probs = self.model.predict(lines, k=1)
        names = [ls[0][len(PREFIX) :] if ls else "other" for ls in labels]
        prob = np.array([ps[0] if len(ps) else np.nan for ps in probs], dtype=np.float32)
        return names, np.clip(prob, 0.0, 1.0)  # fastText's softmax can read 1.00001
