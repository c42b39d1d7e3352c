"""Build the web held-out set: real pages with real-looking chrome, as WARC, labelled good/junk.

Usage (Debian 12; tcl8.6 and the common licences are usually present already):

    apt-get install -y --no-install-recommends gnome-user-docs dict-gcide wordnet-base \
        guile-3.0-libs tcl8.6
    PYTHONPATH=. python bench/webset.py [--seed 0] [--out bench/data/web]
    PYTHONPATH=. python bench/web_quality.py --side dev    # then, once: --side test
    PYTHONPATH=. python bench/webset.py --wide 100         # optional: OUT/dev-wide, more dev
    PYTHONPATH=. python bench/web_quality.py --side dev-wide

It writes, for each side (``dev``: tune on it; ``test``: report once), under ``OUT/<side>/``:

- ``pages.warc.gz``: one HTTP response per page (HTML), as a crawler stores it;
- ``labels.jsonl``: ``id`` (the WARC-Record-ID, which ``qurate curate`` keeps as the doc id),
  ``label`` (good|junk), ``kind`` (help|dictionary|glossary|licence|code for good;
  link_farm|consent|navigation|blob|numeric for junk), ``lang``, ``source``, and for good pages
  the ``chrome`` strings put around the body and ``body`` lines (to measure what line removal cut);
- ``extracted.jsonl``: ``id``, ``text``: each page's text as qurate's WARC reader extracts it
  (Trafilatura), so stock datatrove's filters are scored on exactly the same text.

Good pages are a real document (``web_sources``) inside a site template: header navigation,
breadcrumbs, a cookie banner, sharing links, related links and a footer, written either with
semantic tags (``<nav>``, ``<footer>``, which the extractor mostly drops) or with plain
``<div>``/``<p>`` markup (which it often keeps, as on real sites). Junk pages carry the same
chrome around a junk body made from real text of the same language: SEO link farms (anchor
phrases and URLs woven into text), cookie-consent / navigation-only pages, prose with base64 or
hex blobs, and numeric table dumps.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_sources as cs  # noqa: E402
import junk  # noqa: E402
import web_sources as ws  # noqa: E402
from web_chrome import CHROME, chrome  # noqa: E402

GOOD_HELP_PER_LANG = 18
N_DICT, N_GLOSS, N_LICENCE, N_CODE = 50, 25, 50, 50
JUNK_PER_LANG = {"link_farm": 3, "consent": 2, "navigation": 2, "blob": 2, "numeric": 2}
E = html.escape


def _variant(side: str) -> str:
    return "cookie0" if side == "dev" else "cookie1"


def chrome_blocks(rng: random.Random, lang: str | None, side: str, title: str) -> dict:
    """The chrome of one page as HTML parts plus the visible strings they hold."""
    c = chrome(lang)
    nav = [c[k] for k in ("home", "about", "blog", "contact", "search", "login", "register")]
    nav = nav[: rng.randint(4, 7)]
    semantic = rng.random() < 0.5
    shown: list[str] = []
    parts: dict[str, str] = {}
    links = "".join(f'<li><a href="/{i}">{E(x)}</a></li>' for i, x in enumerate(nav))
    if semantic:
        parts["header"] = f'<header><nav class="main-menu"><ul>{links}</ul></nav></header>'
    else:
        parts["header"] = f'<div class="top"><ul class="m">{links}</ul></div>'
    shown += nav
    crumbs = f"{c['home']} › {title[:40]}"
    parts["crumbs"] = f'<div class="bc"><p>{E(crumbs)}</p></div>' if rng.random() < 0.5 else ""
    shown += [crumbs] if parts["crumbs"] else []
    if rng.random() < 0.7:
        banner = c[_variant(side)]
        btns = f"<button>{E(c['accept'])}</button> <a href='/cookies'>{E(c['settings'])}</a>"
        tag = '<div id="cookie-consent" class="cookie-banner">' if semantic else '<div class="b2">'
        parts["cookie"] = f"{tag}<p>{E(banner)}</p><p>{btns}</p></div>"
        shown += [banner, c["accept"], c["settings"]]
    else:
        parts["cookie"] = ""
    if rng.random() < 0.5:
        parts["share"] = (
            f'<div class="s"><p>{E(c["share"])}: Facebook · X · LinkedIn · E-mail</p></div>'
        )
        shown += [c["share"]]
    else:
        parts["share"] = ""
    year = rng.randint(2009, 2025)
    foot = [c["privacy"], c["terms"], c["imprint"], c["newsletter"], c["follow"]]
    foot_html = " | ".join(f'<a href="/f{i}">{E(x)}</a>' for i, x in enumerate(foot))
    rights = (
        f"© {year} {rng.choice(['Example', 'Nordlicht', 'Kappa', 'Sora'])} Media. {c['rights']}"
    )
    if semantic:
        parts["footer"] = f"<footer><p>{foot_html}</p><p>{E(rights)}</p></footer>"
    else:
        parts["footer"] = f'<div class="f"><p>{foot_html}</p><p>{E(rights)}</p></div>'
    shown += foot + [rights]
    if rng.random() < 0.4:
        rel = [c["related"]] + [f"{c['more']} »"] * rng.randint(0, 1)
        parts["related"] = f'<div class="r"><p>{E(" · ".join(rel))}</p></div>'
        shown += rel
    if rng.random() < 0.5:  # the footer's policy line leaks into the article
        parts["share"] += f"<p>{foot_html}</p>"
    return {"parts": parts, "shown": shown, "inline": rng.random() < 0.6}


def body_html(blocks: list[tuple[str, str]]) -> str:
    out, i = [], 0
    while i < len(blocks):
        tag, text = blocks[i]
        if tag in ("li", "tr"):
            j = i
            while j < len(blocks) and blocks[j][0] == tag:
                j += 1
            if tag == "li":
                out.append("<ul>" + "".join(f"<li>{E(t)}</li>" for _, t in blocks[i:j]) + "</ul>")
            else:
                rows = ["<tr>" + "".join(f"<td>{E(c)}</td>" for c in t.split("\t")) + "</tr>"
                        for _, t in blocks[i:j]]  # fmt: skip
                out.append("<table>" + "".join(rows) + "</table>")
            i = j
            continue
        if tag == "pre":  # as code and data pages write it (a bare <pre> loses its lines)
            out.append(f"<pre><code>{E(text)}</code></pre>")
        else:
            out.append(f"<{tag}>{E(text)}</{tag}>")
        i += 1
    return "\n".join(out)


def page(lang: str | None, title: str, body: str, ch: dict) -> str:
    """The whole page. With ``ch["inline"]`` the breadcrumbs, cookie notice and sharing links
    sit inside the article container, where CMS templates often put them and where the
    extractor keeps them: the chrome a line filter has to cut."""
    p = ch["parts"]
    head, tail = p["cookie"] + p["crumbs"], p["share"] + p.get("related", "")
    if ch.get("inline"):
        body, head, tail = f"{head}{body}{tail}", "", ""
    return (
        f'<!DOCTYPE html><html lang="{lang or "en"}"><head><meta charset="utf-8">'
        f"<title>{E(title)}</title></head><body>{p['header']}{head}"
        f"<main><article>{body}</article></main>{tail}{p['footer']}</body></html>"
    )


# --- junk bodies, each from real text of the page's language --------------------------------


def _anchor(rng: random.Random, kws: list[str], cjk: bool) -> str:
    words = rng.sample(kws, min(len(kws), rng.randint(2, 4)))
    return ("" if cjk else " ").join(words)


def link_farm(rng: random.Random, src: ws.Source) -> list[tuple[str, str]]:
    """SEO link farm: anchor phrases (keywords of a real page) and URLs woven into text."""
    cjk = src.lang in ("zh", "ja")
    kws = junk.keywords(src.text, 12) or ["deal", "offer", "best"]
    sents = junk.sentences(src.text)
    blocks: list[tuple[str, str]] = [("h1", _anchor(rng, kws, cjk))]
    for _ in range(rng.randint(3, 6)):
        items = []
        for _ in range(rng.randint(6, 14)):
            a = _anchor(rng, kws, cjk)
            if rng.random() < 0.4:
                slug = "-".join(a.split()) if not cjk else str(rng.randint(100, 999))
                a += f" https://www.{rng.choice(kws)[:12]}{rng.randint(1, 99)}.com/{slug}"
            items.append(a)
        sep = rng.choice([" | ", ", ", " · ", " - ", " / "])
        text = sep.join(items)
        if sents and rng.random() < 0.5:  # a real sentence woven in
            text = rng.choice(sents) + " " + text
        blocks.append(("p", text))
    if rng.random() < 0.5:
        blocks += [("li", _anchor(rng, kws, cjk)) for _ in range(rng.randint(8, 20))]
    return blocks


def consent(rng: random.Random, src: ws.Source, side: str) -> list[tuple[str, str]]:
    """A page whose only text is the consent dialog, policy links and menus (no article)."""
    c = chrome(src.lang)
    title = src.blocks[0][1] if src.blocks else c["home"]
    blocks = [
        ("h1", title[:60]),
        ("p", c[_variant(side)]),
        ("p", c["accept"]),
        ("p", c["settings"]),
    ]
    blocks += [("li", c[k]) for k in ("privacy", "terms", "imprint", "login", "register")]
    if rng.random() < 0.5:
        blocks.append(("p", f"{c['newsletter']} · {c['follow']} · {c['share']}"))
    return blocks


def navigation(rng: random.Random, pool: list[ws.Source]) -> list[tuple[str, str]]:
    """A category page: titles of other pages of the site, 'read more' links, paging."""
    c = chrome(pool[0].lang)
    blocks: list[tuple[str, str]] = [("h1", f"{c['blog']} › {c['related']}")]
    for d in rng.sample(pool, min(len(pool), rng.randint(6, 14))):
        title = next((t for tag, t in d.blocks if tag.startswith("h")), d.blocks[0][1])
        blocks.append(("h2", title[:80]))
        if rng.random() < 0.5:
            blocks.append(("p", c["more"] + " »"))
    pages = " ".join(str(i) for i in range(1, rng.randint(4, 9)))
    blocks.append(("p", f"« {c['prev']} {pages} {c['next']} »"))
    return blocks


def _blob(rng: random.Random) -> str:
    raw = rng.randbytes(rng.randint(200, 900))
    kind = rng.random()
    if kind < 0.45:
        return "data:image/png;base64," + base64.b64encode(raw).decode()
    if kind < 0.7:
        return base64.b64encode(raw).decode()
    if kind < 0.85:
        return raw.hex()
    return " ".join(f"{b:02x}" for b in raw)


def blob(rng: random.Random, src: ws.Source) -> list[tuple[str, str]]:
    """Real prose with encoded blobs (data URIs, base64, hex) inside its paragraphs."""
    blocks = [b for b in src.blocks if b[0] != "pre"][:12]
    n_text = sum(len(t) for _, t in blocks)
    n_blob = 0
    out: list[tuple[str, str]] = []
    for tag, text in blocks:
        if tag == "p" and n_blob < n_text * 0.8:
            b = _blob(rng)
            text = f"{text} {b}" if rng.random() < 0.5 else f"{b} {text}"
            n_blob += len(b)
        out.append((tag, text))
    while n_blob < max(n_text * 0.6, 600):
        b = _blob(rng)
        out.insert(rng.randint(1, len(out)), ("p", b))
        n_blob += len(b)
    return out


def numeric(rng: random.Random, src: ws.Source) -> list[tuple[str, str]]:
    """A real intro paragraph, then a dump of numeric table rows (data export, price list)."""
    intro = [b for b in src.blocks if b[0] in ("h1", "p")][:2]
    n_cols, rows = rng.randint(4, 9), []
    for r in range(rng.randint(25, 70)):
        cells = [str(rng.randint(2000, 2025))] if rng.random() < 0.5 else [str(r + 1)]
        for _ in range(n_cols):
            x = rng.random() * 10 ** rng.randint(0, 5)
            cells.append(rng.choice([f"{x:.2f}", f"{int(x)}", f"{x:.1f}%", f"{x:,.0f}"]))
        rows.append(cells)
    if rng.random() < 0.5:
        return intro + [("tr", "\t".join(r)) for r in rows]
    return intro + [("pre", "\n".join("  ".join(r) for r in rows))]


# --- the set ---------------------------------------------------------------------------------


def build_side(
    side: str, rng: random.Random, help_per_lang: int = GOOD_HELP_PER_LANG
) -> list[tuple[str, dict]]:
    """(html, label) pairs of one side, shuffled; ``help_per_lang`` good help pages each."""
    items: list[tuple[str, dict]] = []
    helps = ws.help_docs(side)
    by_lang: dict[str, list[ws.Source]] = {}
    for d in helps:
        by_lang.setdefault(d.lang or "en", []).append(d)
    # Languages whose help is translated enough for a page set of their own (22 of 27).
    # (A wide set takes what a language has, keeping 4 pages for its junk.)
    min_pages = GOOD_HELP_PER_LANG + 4
    langs = sorted(la for la in CHROME if len(by_lang.get(la, ())) >= min_pages)
    n_help = {la: min(help_per_lang, len(by_lang[la]) - 4) for la in langs}
    good: list[ws.Source] = []
    for lang in langs:
        rng.shuffle(by_lang[lang])
        good += by_lang[lang][: n_help[lang]]
    good += ws.gcide_docs(side, N_DICT, rng) + ws.wordnet_docs(side, N_GLOSS, rng)
    # Debian copyright files repeat each other (one upstream, many packages): keep one of each.
    lic, code = cs.drop_near_dups(ws.licence_docs(side)), cs.drop_near_dups(ws.code_docs(side))
    good += rng.sample(lic, min(N_LICENCE, len(lic))) + rng.sample(code, min(N_CODE, len(code)))
    for src in good:
        title = next((t for tag, t in src.blocks if tag.startswith("h")), src.key)
        ch = chrome_blocks(rng, src.lang, side, title)
        lab = {"label": "good", "kind": src.kind, "lang": src.lang, "source": src.key,
               "chrome": ch["shown"], "body": [t for _, t in src.blocks]}  # fmt: skip
        items.append((page(src.lang, title, body_html(src.blocks), ch), lab))
    for lang in langs:
        pool = by_lang[lang][n_help[lang] :]
        for kind, n in JUNK_PER_LANG.items():
            for _ in range(n):
                src = rng.choice(pool)
                if kind == "link_farm":
                    blocks = link_farm(rng, src)
                elif kind == "consent":
                    blocks = consent(rng, src, side)
                elif kind == "navigation":
                    blocks = navigation(rng, pool)
                elif kind == "blob":
                    blocks = blob(rng, src)
                else:
                    blocks = numeric(rng, src)
                title = blocks[0][1][:60]
                ch = chrome_blocks(rng, lang, side, title)
                lab = {"label": "junk", "kind": kind, "lang": lang, "source": src.key}
                items.append((page(lang, title, body_html(blocks), ch), lab))
    rng.shuffle(items)
    return items


def write_side(out: Path, side: str, items: list[tuple[str, dict]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from qurate.readers.html import html_to_text

    out.mkdir(parents=True, exist_ok=True)
    with (
        (out / "pages.warc.gz").open("wb") as fw,
        (out / "labels.jsonl").open("w", encoding="utf-8") as fl,
        (out / "extracted.jsonl").open("w", encoding="utf-8") as fe,
    ):
        writer = WARCWriter(fw, gzip=True)
        for n, (markup, lab) in enumerate(items):
            rid = f"<urn:webheur:{side}-{n:05d}>"
            url = f"https://site{n % 97}.example/{side}/{n}"
            if lab["kind"] == "code":  # code hosts show a file under its own name
                url += "/" + lab["source"].rsplit("/", 1)[-1]
            http = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            rec = writer.create_warc_record(
                url, "response", payload=io.BytesIO(markup.encode()), http_headers=http,
                warc_headers_dict={"WARC-Record-ID": rid},
            )  # fmt: skip
            writer.write_record(rec)
            fl.write(json.dumps({"id": rid, **lab}, ensure_ascii=False) + "\n")
            fe.write(
                json.dumps({"id": rid, "text": html_to_text(markup)}, ensure_ascii=False) + "\n"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data" / "web")
    ap.add_argument(
        "--wide",
        type=int,
        default=0,
        metavar="N",
        help="also write OUT/dev-wide: N help pages per language from the dev side's sources "
        "(more dev pages to tune on; it shares no source file with test)",
    )
    args = ap.parse_args()
    if args.wide:
        rng = random.Random(f"{args.seed}:dev-wide")
        items = build_side("dev", rng, args.wide)
        write_side(args.out / "dev-wide", "dev-wide", items)
        n_junk = sum(lab["label"] == "junk" for _, lab in items)
        print(f"dev-wide: {len(items)} pages ({n_junk} junk) -> {args.out / 'dev-wide'}")
        return
    for side in ("dev", "test"):
        rng = random.Random(f"{args.seed}:{side}")
        items = build_side(side, rng)
        write_side(args.out / side, side, items)
        n_junk = sum(lab["label"] == "junk" for _, lab in items)
        print(f"{side}: {len(items)} pages ({n_junk} junk) -> {args.out / side}")


if __name__ == "__main__":
    main()
