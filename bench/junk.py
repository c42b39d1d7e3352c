"""Turn real text into labelled junk, near-duplicates, excerpts and contaminated documents.

Every junk document starts from real text (a real page's navigation chrome, a real
document's lines or words), and the transform is the kind of damage a web crawl shows:
keyword stuffing, lines repeated by a broken template, text decoded with the wrong code page,
cut-off fragments. Spam is the one templated type: its phrases are typical SEO/ad spam, and
its keywords are taken from a real document. All transforms take an explicit
``random.Random`` so that a seeded build is reproducible.
"""

from __future__ import annotations

import random
import re
from collections import Counter

_CJK = r"\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af"
TOKEN = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")
WORD = re.compile(r"[^\W\d_][\w'-]{3,}", re.UNICODE)
SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")


def words_of(text: str) -> list[str]:
    """Word tokens: whitespace-separated words, and single CJK characters."""
    return [t for t in TOKEN.findall(text) if not t.isspace()]


def near_duplicate(rng: random.Random, text: str, frac: float) -> tuple[str, float]:
    """Edit ``frac`` of the words (substitute, delete, insert, swap); returns text, real frac."""
    tokens = TOKEN.findall(text)
    word_pos = [i for i, t in enumerate(tokens) if not t.isspace()]
    vocab = [tokens[i] for i in word_pos]
    k = max(1, round(frac * len(word_pos)))
    for i in rng.sample(word_pos, k):
        op = rng.random()
        if op < 0.4:
            tokens[i] = rng.choice(vocab)
        elif op < 0.65:
            tokens[i] = ""
        elif op < 0.9:
            sep = "" if re.match(f"[{_CJK}]", tokens[i]) else " "
            tokens[i] = tokens[i] + sep + rng.choice(vocab)
        else:
            tokens[i] = tokens[i][::-1] if len(tokens[i]) > 2 else rng.choice(vocab)
    return "".join(tokens), k / len(word_pos)


def sentences(text: str) -> list[str]:
    flat = re.sub(r"\s*\n\s*", " ", text)
    return [s.strip() for s in SENTENCE_END.split(flat) if s.strip()]


def excerpt(rng: random.Random, text: str, cjk: bool) -> str | None:
    """One or two consecutive whole sentences (30-250 chars) that read as prose."""
    sents = sentences(text)
    rng.shuffle(order := list(range(len(sents))))
    for i in order:
        n = rng.choice((1, 2))
        chunk = " ".join(sents[i : i + n])
        letters = sum(c.isalpha() for c in chunk)
        min_words = 0 if cjk else 6
        if 30 <= len(chunk) <= 250 and letters > 0.7 * len(chunk.replace(" ", "")):
            if len(chunk.split()) >= min_words and not re.search(r"[<>{}=|/\\_]", chunk):
                return chunk
    return None


def contaminate(rng: random.Random, host: str, item: str) -> str:
    """Paste a benchmark item into a clean document at a paragraph boundary."""
    paras = host.split("\n\n")
    at = rng.randint(1, max(1, len(paras) - 1))
    return "\n\n".join(paras[:at] + [item.strip("\n")] + paras[at:])


# --- junk ------------------------------------------------------------------------------------


def keywords(text: str, n: int) -> list[str]:
    counts = Counter(w.lower() for w in WORD.findall(text))
    if len(counts) < n:  # CJK text: take 2-char runs as "words"
        counts.update(re.findall(f"[{_CJK}]{{2}}", text))
    return [w for w, _ in counts.most_common(n)]


def keyword_stuffing(rng: random.Random, text: str) -> str:
    """A real opening sentence followed by a wall of the document's own top keywords."""
    kws = keywords(text, 8)
    head = (sentences(text) or [text[:120]])[0][:200]
    suffixes = ["", "", " online", " free", " best", " 2024", " cheap", " download", " tutorial"]
    stuffed = [rng.choice(kws) + rng.choice(suffixes) for _ in range(rng.randint(60, 160))]
    seps = rng.choice([", ", " ", " | ", " - "])
    return head + "\n\n" + seps.join(stuffed)


def repeated_lines(rng: random.Random, text: str) -> str:
    """A broken template: a few of the document's lines repeated over and over."""
    lines = [ln for ln in text.splitlines() if len(ln.strip()) > 20] or [text[:80]]
    if rng.random() < 0.5:
        block = lines[: rng.randint(1, 3)]
        return "\n".join(block * rng.randint(12, 30))
    return "\n".join(ln for ln in lines[:30] for _ in range(rng.randint(3, 6)))


def fragment(rng: random.Random, text: str) -> str:
    """A cut-off piece of text: 2-9 words (or 3-12 CJK chars) from anywhere in a document."""
    spans = [m.span() for m in TOKEN.finditer(text) if not m.group().isspace()]
    if not spans:
        return text[:20]
    cjk = re.match(f"[{_CJK}]", text[spans[len(spans) // 2][0]]) is not None
    n = rng.randint(3, 12) if cjk else rng.randint(2, 9)
    start = rng.randint(0, max(0, len(spans) - n))
    piece = text[spans[start][0] : spans[min(len(spans), start + n) - 1][1]]
    return re.sub(r"\s+", " ", piece) + rng.choice(["", "", "...", " »", " |", " -"])


# (encode as, decode as): damage that ftfy cannot undo, as seen in crawls.
_MOJIBAKE = {
    "zh": ("gbk", "latin-1"),
    "ja": ("shift_jis", "cp1252"),
    "ru": ("cp1251", "cp1252"),
    "uk": ("cp1251", "cp1252"),
}


def mojibake(text: str, lang: str) -> str:
    """Unrecoverable mojibake: text decoded with the wrong code page (lossy)."""
    enc, dec = _MOJIBAKE.get(lang, ("utf-8", "ascii"))
    return text.encode(enc, "replace").decode(dec, "replace")


def has_mojibake_room(text: str) -> bool:
    """Whether wrong-code-page decoding visibly damages a text (pure ASCII survives it)."""
    return sum(ord(c) > 127 for c in text) > 0.01 * len(text)


def fixable_mojibake(text: str) -> str:
    """UTF-8 read as cp1252 once: the classic 'Ã©' damage that normalisation should repair."""
    return text.encode("utf-8").decode("cp1252", "replace")


_SPAM: dict[str, list[str]] = {
    "en": [
        "BUY {k} ONLINE NOW!!!", "Cheapest {k} on the web - 90% OFF today only!",
        "Best {k} deals, {k} discount code, {k} free shipping worldwide.",
        "Click here >>> http://{d}/{k}-sale <<<", "Limited time offer!!! Order {k} now.",
        "Earn $5000 a week from home with {k}! No experience needed!", "100% guaranteed. Call +1-800-{n}.",
        "Hot {k} singles in your area", "Download {k} crack full version free no virus",
    ],
    "zh": [
        "【{k}】官方正品，全网最低价！", "点击进入 http://{d}/{k} 立即领取优惠券！",
        "{k}包邮，限时抢购，手慢无！！！", "加微信 {n} 咨询{k}，日赚千元不是梦！",
        "{k}免费下载，{k}破解版，{k}最新版本。", "特价{k}，买一送一，欢迎选购！",
    ],
    "de": [
        "Jetzt {k} günstig kaufen!!!", "{k} zum Top-Preis - nur heute 70% Rabatt!",
        "Klicken Sie hier: http://{d}/{k}", "Kostenloser Versand für {k}, {k} Gutschein, {k} billig.",
        "Verdienen Sie 3000 Euro pro Woche von zu Hause mit {k}!", "Rufen Sie jetzt an: 0800-{n}",
    ],
    "fr": [
        "Achetez {k} pas cher en ligne !!!", "Promo {k} : -80% aujourd'hui seulement !",
        "Cliquez ici >>> http://{d}/{k}", "{k} gratuit, {k} livraison gratuite, code promo {k}.",
        "Gagnez 3000 euros par semaine avec {k} !", "Appelez le 0800 {n} maintenant !",
    ],
    "es": [
        "¡¡¡Compra {k} barato ahora!!!", "Oferta {k}: 80% de descuento solo hoy.",
        "Haz clic aquí >>> http://{d}/{k}", "{k} gratis, envío gratis de {k}, cupón {k}.",
        "¡Gana 3000 euros a la semana desde casa con {k}!", "Llama ya al 900 {n}.",
    ],
    "ru": [
        "Купить {k} дёшево!!! Скидки до 90%!", "Жми сюда >>> http://{d}/{k}",
        "{k} бесплатно, {k} без регистрации, {k} скачать торрент.",
        "Заработок от 100000 рублей в месяц с {k}!", "Звоните: 8-800-{n}",
    ],
    "ja": [
        "【激安】{k}が今だけ90%OFF！！", "今すぐクリック http://{d}/{k}",
        "{k} 無料ダウンロード {k} 最安値 {k} 送料無料", "在宅で月収100万円！{k}で簡単に稼げる！",
    ],
}  # fmt: skip


def spam(rng: random.Random, lang: str, source_text: str) -> str:
    """SEO/ad spam in ``lang`` whose product keywords come from a real document."""
    phrases = _SPAM.get(lang, _SPAM["en"])
    kws = keywords(source_text, 6) or ["deal"]
    dom = rng.choice(["best-deals-24", "cheap-shop", "top-offer", "mega-sale", "free-dl"])
    dom = f"www.{dom}{rng.randint(1, 99)}.{rng.choice(['com', 'net', 'biz', 'info', 'cn', 'ru'])}"
    out = []
    for _ in range(rng.randint(5, 14)):
        p = rng.choice(phrases)
        out.append(p.format(k=rng.choice(kws), d=dom, n=rng.randint(100000, 999999)))
    sep = rng.choice(["\n", " ", "\n\n"])
    return sep.join(out)
