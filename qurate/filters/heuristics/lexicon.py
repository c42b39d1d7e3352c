"""Word lists the heuristics use: stop words per language, boilerplate and spam phrases.

Gopher's stop-word rule ("a real document contains at least two of: the, be, to, of, and,
that, have, with") is a strong signal for English prose, but applied as stock datatrove
applies it, to every document, it rejects every non-English document. Here each language
found by language ID gets its own short list of its most frequent function words; a
language without a list skips the rule. For Chinese, Japanese and Thai the tokens are
single characters, so the lists hold the commonest one-character particles.
"""

from __future__ import annotations

STOP_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the be to of and that have with is are was for in it this",
        "de": "der die das und ist nicht ein eine zu den mit von sie es im auf",
        "fr": "le la les de des et est un une du que qui dans pour pas en",
        "es": "el la los las de que y en un una es por con para del se",
        "it": "il la di che e un una per non sono del della con si è in",
        "pt": "o a os as de que e do da em um uma para com não é se",
        "nl": "de het een en van is dat niet op te zijn met voor die in",
        "sv": "och i att det som en på är av för med den till inte har",
        "da": "og i at det en den til er som på de med for af ikke",
        "no": "og i det som en på er til av at for med ikke har den",
        "nb": "og i det som en på er til av at for med ikke har den",
        "fi": "ja on ei se että oli hän ovat mutta kun tai myös joka",
        "pl": "i w na z że się nie do to jest o jak co ale",
        "cs": "a se na že je v to s z do o jsou jako ale pro",
        "sk": "a sa na že je v to s z do o sú ako ale pre",
        "ro": "și de la în cu nu o un că pe este care din pentru",
        "hu": "a az és hogy nem is egy van de meg el ki",
        "tr": "ve bir bu da de için ile olan çok gibi daha ne mi en",
        "ru": "и в не на что я с он как это по но из к у",
        "uk": "і в не на що я з він як це та до у за але",
        "bg": "и в на да е не се с за от че това по",
        "el": "και το να η ο της του με σε για την τα που είναι",
        "ar": "في من على أن إلى عن مع هذا التي الذي هو ما كان لا",
        "fa": "و در به از که این را با است برای آن یک",
        "he": "של את על הוא לא זה עם אם כי גם היא",
        "hi": "के है में की और से का को एक यह पर हैं",
        "bn": "এবং এই করে হয় না থেকে একটি জন্য তার",
        "id": "dan yang di ini itu dengan untuk dari tidak ada dalam akan",
        "ms": "dan yang di ini itu dengan untuk dari tidak ada dalam akan",
        "vi": "và của là có không những được các một trong cho người",
        # Korean particles attach to words; these stand alone (help text is formal:
        # "할 수 있습니다", "때", "또는").
        "ko": "이 그 수 있는 있다 것 하는 및 한 에 는 을 를 의 있습니다 합니다 할 때 더 또는 "
        "경우 위해 다음 모든",
        "ca": "el la de i que a en un una per amb no és del",
        "eo": "la kaj de en estas al ne por kun mi",
        # One-character particles for scripts tokenised per character.
        "zh": "的 了 是 在 和 有 我 不 这 也 就 人 一 他 们 中 为 上 个",
        "ja": "の に は を た が で て と し れ さ も な い",
        # Thai function words are multi-character; per-character tokens are matched
        # against the characters most frequent in running Thai text instead.
        "th": "่ า น ร อ ก ง ม",
    }.items()
}

# Phrases are plain lower-case substrings, not one big regular expression: Python's `re`
# tries every branch of an alternation at every position (3 s per MB for these lists),
# while `str.count` / `in` over the lower-cased text is a fast C substring search.

# Lines that are site chrome rather than content (C4 drops lines with "javascript" or
# cookie/terms wording; these extend that to common navigation and footer text).
BOILERPLATE_PHRASES: tuple[str, ...] = (
    "javascript", "cookie policy", "cookies policy", "uses cookies", "use cookies",
    "use of cookies", "cookie settings", "accept cookies", "accept all", "privacy policy",
    "privacy notice", "terms of use", "terms of service", "terms and conditions",
    "all rights reserved", "copyright ©", "©", "sign in", "sign up", "log in", "login",
    "log out", "logout", "subscribe", "newsletter", "follow us", "share this", "share on",
    "skip to content", "skip to main content", "back to top", "read more", "click here",
    "powered by", "contact us", "related posts", "leave a comment", "leave a reply",
    "you may also like", "previous page", "next page", "table of contents", "search this site",
    "alle rechte vorbehalten", "datenschutz", "impressum", "tous droits réservés",
    "mentions légales", "todos los derechos reservados", "política de privacidad",
    "版权所有", "隐私政策", "無断転載", "プライバシーポリシー", "все права защищены",
)  # fmt: skip

# Commercial spam wording, counted per word, so one "buy now" in a long page is harmless.
# Single words are matched against the document's words; phrases as substrings.
SPAM_WORDS = frozenset(
    "cheap cheapest discount discounts casino viagra cialis replica sale deal deals promo "
    "coupon coupons bonus jackpot win günstig rabatt gutschein billig barato descuento cupón "
    "sconto grátis купить скидка скидки бесплатно заработок звоните".split()
)
SPAM_PHRASES: tuple[str, ...] = (
    "buy now", "order now", "click here", "limited time", "limited offer", "act now",
    "free shipping", "best price", "lowest price", "100% free", "100% guaranteed",
    "payday loan", "make money", "work from home", "earn $", "weight loss", "free trial",
    "no prescription", "hot singles", "!!", "！！", "$$",
    "kostenloser versand", "klicken sie hier", "jetzt kaufen", "pas cher", "cliquez ici",
    "livraison gratuite", "code promo", "gagnez", "haz clic", "envío gratis", "¡gana",
    "clicca qui", "spedizione gratuita", "clique aqui", "frete grátis", "жми сюда",
    "без регистрации", "скачать торрент", "免费下载", "破解版", "最低价", "优惠券", "包邮",
    "限时抢购", "加微信", "日赚", "特价", "买一送一", "点击进入", "官方正品", "激安",
    "無料ダウンロード", "最安値", "送料無料", "今すぐクリック", "月収", "稼げる",
)  # fmt: skip
