"""An evaluation text copied into one arm is flagged for that arm and not the other."""

from __future__ import annotations

from ablate_builders import word_docs

from qurate.ablate.leakage import ArmIndex, leakage_table


def test_a_copied_eval_doc_is_flagged_in_its_arm_only():
    clean = [d["text"] for d in word_docs(50, seed=1)]
    evals = [d["text"] for d in word_docs(10, seed=2)]
    leaky = clean + [evals[3]]
    table = leakage_table({"clean": clean, "leaky": leaky}, {"held": evals}, ngram=13, jaccard=0.7)
    assert table["clean"]["held"]["any"] == 0
    assert table["leaky"]["held"] == {"exact": 1, "near": 1, "ngram": 1, "any": 1, "docs": 10}


def test_near_duplicates_and_shared_ngrams_are_told_apart():
    base = " ".join(f"word{i}" for i in range(200))
    near = base.replace("word50 ", "changed ")
    passage = " ".join(f"word{i}" for i in range(20, 40))  # 20 shared words, nothing else
    index = ArmIndex([base], ngram=13)
    hits = index.check([near, f"intro {passage} outro", "unrelated words only here"], jaccard=0.7)
    assert hits["exact"] == []
    assert hits["near"] == [0]
    assert hits["ngram"] == [0, 1]
    assert hits["any"] == [0, 1]
