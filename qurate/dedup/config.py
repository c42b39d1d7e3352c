"""Config models for dedup and decontamination (composed into the pipeline config by the lead).

The near-dedup defaults are tuned for the quality bar "copies with 1-10% of words edited are
found, unrelated documents (also ones sharing boilerplate) are not" (measured in
bench/RESULTS.md). Why they differ from datatrove's 5-gram / 14 bands x 8 rows:

- An edit destroys every shingle that covers the edited word, so two copies share about
  (1 - p)^n of their shingles for a fraction p of words edited. With datatrove's 5-grams and
  p = 10% that is 0.59 (Jaccard 0.42), below what 14x8 bands find (~0.72). Word 2-grams keep
  0.81 (Jaccard ~0.68).
- 32 bands of 4 rows make a pair of Jaccard 0.6 a candidate with probability 0.988 and one
  of 0.65 with 0.998. The extra candidates this lets in (bigrams are less specific than
  5-grams) cost little because every candidate pair is *verified*: its Jaccard is estimated
  from the two full 128-value signatures and the pair is kept only at ``threshold`` (0.55)
  or above. That is what keeps precision, also for unrelated pages that share a header and
  footer: they must share over ~70% of their bigrams to pass.
- Short pages that share a long header or footer (man pages with the same AUTHOR /
  COPYRIGHT / SEE ALSO sections, source files with the same licence block) can pass a
  whole-document threshold. So each document also gets a small signature for each of
  ``segments`` equal parts (by position), and a pair must also match part by part: an edited
  copy keeps ~80% of every part, while two pages with a shared footer share nothing in
  their first parts.
- Measured on real documentation in 9 languages (Debian reference), 1-10% of words edited,
  a third of documents wrapped in shared boilerplate: precision 1.0, recall 1.0; word
  3-grams at their best threshold gave 0.996 / 0.999, and 2-grams at 0.5 / 0.6 gave
  0.996 / 0.999 and 1.0 / 0.995 (see bench/RESULTS.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DedupConfig(BaseModel):
    """Exact and MinHash-LSH near-duplicate removal."""

    model_config = ConfigDict(extra="forbid")

    exact: bool = Field(
        True, description="drop copies whose casefolded, whitespace-collapsed text is identical"
    )
    near: bool = Field(True, description="drop near-duplicates found by MinHash-LSH")
    ngram: int = Field(2, ge=1, le=64, description="shingle size in words (CJK/Thai: characters)")
    bands: int = Field(32, ge=1, le=512, description="LSH bands")
    rows: int = Field(4, ge=1, le=64, description="MinHash values per band")
    threshold: float = Field(
        0.55,
        ge=0.0,
        le=1.0,
        description="minimum estimated Jaccard for a candidate pair to count as a duplicate",
    )
    segments: int = Field(
        4,
        ge=0,
        le=16,
        description="also compare documents part by part (this many equal parts by position); "
        "every part must match: pages that share only a header or footer do not (0: off)",
    )
    segment_hashes: int = Field(16, ge=1, le=64, description="MinHash values per part")
    segment_threshold: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="minimum estimated Jaccard of every pair of corresponding parts",
    )
    segment_min_shingles: int = Field(
        32,
        ge=1,
        description="compare parts only when both documents have this many shingles per part",
    )
    seed: int = Field(1, description="MinHash permutation seed; must be the same for every task")
    max_group: int = Field(
        32,
        ge=2,
        description="in an LSH bucket with more documents than this, pair each with its neighbours only",
    )

    @property
    def num_hashes(self) -> int:
        return self.bands * self.rows

    @property
    def full_width(self) -> int:
        """Values stored per document: the LSH signature, each part's signature, the shingle count."""
        return self.num_hashes + self.segments * self.segment_hashes + (1 if self.segments else 0)


class DecontamConfig(BaseModel):
    """n-gram overlap against benchmark files (Qwen2.5 report: 13-grams)."""

    model_config = ConfigDict(extra="forbid")

    ngram: int = Field(13, ge=1, le=64, description="n-gram size in words (CJK/Thai: characters)")
    text_field: str | list[str] = Field(
        "text",
        description="benchmark record field(s) holding text; each field is matched on its own",
    )
    id_field: str = Field(
        "id", description="benchmark record field holding its id (else file:line)"
    )
    min_tokens: int = Field(
        8,
        ge=1,
        description="benchmark texts with fewer words are ignored (too generic to match on)",
    )
    max_ngram_records: int = Field(
        5,
        ge=1,
        description="an n-gram found in more benchmark records than this is template text, not content: ignored",
    )
