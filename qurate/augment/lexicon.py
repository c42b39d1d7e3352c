"""Mathematical content words beyond English and the main European languages.

The math prior (``augment/prior.py``) counts a document's mathematical content words. Its
first lexicon (English, French, German, Spanish/Italian/Portuguese, Russian, Chinese and
Japanese terms) gave Greek math nothing to count: on the fourth dev pool (the Giac manual
in English and Greek) 32 of 100 Greek math sections were recalled (bench/RESULTS.md). The
words here were written from general knowledge of each language's school and university
mathematics, never read off a bench pool; words with an everyday sense (Dutch
*vergelijking* "comparison", Indonesian *persamaan* "similarity", Greek *πίνακας* "table",
Hindi *सीमा* "border", Vietnamese *chuỗi* "string") are left out on purpose.

Three forms, by how each language builds words:

- ``STEMS``: accent-folded lower-case prefixes (five letters or more) for inflected
  languages (Greek, Polish, Czech, Slovak, Turkish, Hungarian, Finnish, Dutch, the
  Scandinavian languages, Indonesian/Malay, Romanian, Ukrainian and more Russian forms): a
  word counts when it starts with one (*εξισώσεις* and *εξίσωση* both start with
  ``εξισωσ`` once the accents are folded).
- ``PHRASES``: substrings of the lower-cased text for languages whose math terms are
  several syllables or carry attached particles (Korean, Vietnamese, Arabic, Hindi).
- Nothing for Khmer, Tibetan, Thai, Hebrew, Persian and most other languages: there the
  recall works without the lexicon (``LEXICON_LANGS`` says which languages it knows; see
  ``augment/prior_split.py`` and ``silent_spare_fraction`` for what changes outside them).
  Estonian and Basque were such test languages in the fifth and sixth bench pools until
  their words were added (those pools are dev pools for them now).
"""

from __future__ import annotations

import re

import numpy as np

from qurate.filters.langid import canonical_lang

_EL = """
ολοκληρωμα θεωρημ λημμα λημματ πορισμ αποδειξ πολυωνυμ μονωνυμ εξισωσ ανισωσ ανισοτητ οριζουσ
ιδιοτιμ ιδιοδιανυσμ παραγωγισ
πιθανοτητ διακυμανσ λογαριθμ τριγωνομετρ διαιρετ συντελεστ τετραγωνικ εκθετικ αλγεβρ
γεωμετρ διαφορικ παραγοντικ παραγοντοποι συνημιτον ημιτον εφαπτομεν
παλινδρομησ μιγαδικ κλασματ παρονομαστ αριθμητη
συγκλιν αποκλιν μεταθεσ υποομαδ
ισομορφ ομομορφ τανυστ ασυμπτωτ
"""
_PL_CS_SK = """
twierdzen lemat dowod wielomian rownan nierown macierz wyznacznik
pochodn calkowan calka calki prawdopodob wariancj logarytm trygonometr dzielnik
wspolczynnik pierwiastk wykladnicz algebr geometri rozniczk permutacj cosinus
sinus tangens odchyleni ulamk
dukaz polynom rovnic nerovnic matic determinant derivac integral
pravdepodob rozptyl logaritm goniometr prvocisl delitel koeficient odmocnin exponencial
diferencial permutac faktorial kosinus zlomk postupnost konvergen
"""
_TR_HU_FI = """
teorem ispat polinom denklem esitsizlik matris determinant ozdeger ozvektor turev
integral olasilik varyans logaritma trigonometri bolen katsayi karekok ustel cebir
geometri diferansiyel permutasyon faktoriyel kosinus sinus tanjant hiperbolik
kesir
bizonyitas egyenlet egyenlotlen matrix determinans sajatertek derival integral
valoszinuseg varianc logaritmus primszam egyutthato negyzetgyok exponencialis
differencial permutaci faktorialis koszinusz szinusz tangens szoras
polinom
todistus polynomi yhtalo epayhtalo matriisi determinantti ominaisarvo derivaat
integraal todennakoisyy varianssi logaritmi alkuluku kerroin neliojuur eksponent
differentiaal permutaati kosini tangentti keskihajonta
"""
_NL_SCAND_ID_RO = """
stelling bewijs veelterm polynoom ongelijkheid eigenwaarde eigenvector
integraal waarschijnlijkheid variantie logaritme goniometr priemgetal
coefficient exponentieel meetkunde differentiaal permutatie cosinus sinus tangens
standaardafwijking
polynom ekvation ligning olikhet ulighed matris egenvarde egenvaerdi egenvektor
derivata integral sannolikhet sandsynlighed varians logaritm logaritme primtal
koefficient kvadratrot kvadratrod exponentiell eksponentiel algebra geometri
differential permutation standardavvik standardafvig
teorema polinom pertidaksamaan matriks determinan
integral probabilitas varians logaritma trigonometri pembagi koefisien
kuadrat eksponensial aljabar geometri diferensial permutasi faktorial
kosinus simpangan pecahan
teorema polinom ecuati inegalit matrice determinant
integral probabilit logaritm trigonometr divizor coeficient
exponential algebr geometri diferential permutar factorial cosinus
"""
_UK_RU = """
теорем многочлен рівнян нерівн матриц визначник похідн інтеграл
ймовірн дисперс логарифм дільник коефіцієнт експоненц алгебр геометр
диференц перестановк факторіал косинус синус тангенс дроб
доказательств многочлен уравнен неравенств матриц определител производн
интеграл вероятност дисперси логарифм делител коэффициент  экспоненц
алгебраическ геометрическ дифференц перестановк факториал косинус синус тангенс
дроб сходимост
"""
# Roots shared by most European languages (mathematics, numerator, denominator, fractions)
# and a few languages' own words for fractions and derivatives. Not the English spellings
# "mathemat" and "arithmet": programming manuals use them for operators ("arithmetic
# operations") and a licence for an institute (Stichting Mathematisch Centrum); on dev pool 1
# they put 8 non-math pages past the prior gate (precision 0.92 -> 0.88)
_SHARED = """
matemat matemàt numerator numerador numeratore numérateur
denominator denominador denominatore dénominateur fraccion fraccio fracció frazion fração
frações fraçõe
perpendic conica conique kegelsned bissectri bisettri
wiskund rekenkund noemer breuken afgeleide taljare namnare
brüche bruchrechn primfaktor
математ арифмет числител знаменател чисельник знаменник
"""
# Catalan, Galician, Basque, Estonian, Slovenian, Croatian/Serbian/Bosnian, Latvian,
# Lithuanian, Bulgarian (added after the fifth to seventh pools showed their math unread:
# those pools' figures for these languages are dev figures from here on). Words with an
# everyday sense are left out (Estonian *lugeja* "reader", Slovenian *odvod* "drain",
# Serbian *verovatno* "probably", Latvian *skaitītājs* "counter").
_MORE = """
equacio inequacio matriu matrius probabilitat variancia ecuacion probabilidade
ekuazio inekuazio matrize determinatzaile deribatu probabilitate bariantza desbiderapen
korrelazio erregresio kosinu zatiki zenbakitzaile izendatzaile
maatriks tuletis toenaosus polunoom vorrand vorratus standardhalve dispersioon
korrelatsioon regressioon koosinus siinus ruutjuur algarv faktoriaal kompleksarv
enacb neenacb matrik verjetnost logaritem ulomek ulomk imenovalec prastevil
jednadzb jednacin nejednadzb nejednacin matrica derivacij vjerojatnost verovatnoc
logaritam razlomak razlomk brojnik nazivnik imenilac
vienadojum atvasinajum varbutib lygti isvestin tikimyb daugianar trupmen skaitikl vardikl
детерминант логарит полином
"""
# Names of the elementary and special functions and of the parts of a complex number, in
# the European languages above (added after the ninth pool, the C math library's man pages
# in seven languages, showed German, French, Polish and Russian pages on the complex and
# hyperbolic functions without one word the lexicon knew). Stems, so that inflected and
# compound forms count (*hyperbolique*, *Areakosinus*, *Besselfunktion*, *мнимая*); not
# *racine*, *Wurzel*, *seno*, *complexe*/*komplex*: "répertoire racine", "Wurzelverzeichnis",
# "en el seno de", "a complex system" are everyday words there.
_FUNCTIONS = """
hyperbol hiperbol iperbol гиперболич гіперболіч arcsin arccos arctan arccot arcus arcosen
arcocosen arcotangen areasin areakos areatang coseno cosseno cotangen tangent арксин арккос
арктанг арккотанг quadratwurzel kubikwurzel logarithm esponenzial экспонент
exponentialfunk gammafunk гамма-функц bessel бессел riemann риман imaginar immaginar
realteil urojon zespolon мним уявн potegow mocnin степенн кубическ fehlerfunk
"""
STEMS = frozenset(
    (_EL + _PL_CS_SK + _TR_HU_FI + _NL_SCAND_ID_RO + _UK_RU + _SHARED + _MORE + _FUNCTIONS).split()
)

PHRASES: dict[str, tuple[str, ...]] = {
    # Korean
    "ko": (
        "증명", "보조정리", "대수학", "기하학", "로그함수", "자연로그", "상용로그", "다항식", "방정식", "부등식", "행렬", "행렬식", "고유값",
        "고유벡터", "미분", "적분", "도함수", "극한", "급수", "수열", "확률",
        "표준편차", "정규분포", "삼각함수", "코사인", "탄젠트", "쌍곡", "복소수",
        "정수", "소인수", "약수", "최대공약수", "최소공배수", "계수", "제곱근", "거듭제곱",
        "지수함수", "순열", "역행렬", "회귀", "상관계수", "공분산",
        "가설 검정", "신뢰구간", "자유도", "푸리에", "베셀", "감마 함수", "이항",
    ),
    # Vietnamese
    "vi": (
        "định lý", "định lí", "bổ đề", "đa thức", "phương trình", "ma trận",
        "định thức", "trị riêng", "giá trị riêng", "đạo hàm", "tích phân",
        "vi phân", "nguyên hàm", "xác suất", "phương sai", "độ lệch chuẩn", "lôgarit", "logarit",
        "lượng giác", "số nguyên tố", "ước số", "căn bậc hai", "lũy thừa", "số mũ",
        "đại số", "hình học", "số phức", "hoán vị", "giai thừa", "hồi quy", "phân phối chuẩn",
        "hiệp phương sai",
    ),
    # Arabic (attached articles and suffixes: substrings)
    "ar": (
        "مبرهنة", "برهان", "كثيرة الحدود", "كثيرات الحدود", "معادلة", "معادلات", "متباينة",
        "القيم الذاتية", "مشتقة", "تفاضل", "لوغاريتم",
        "احتمالية", "الانحراف المعياري", "حساب المثلثات", "جيب التمام",
        "جذر تربيعي", "الجذر التربيعي", "متسلسلة", "تباديل", "مضروب",
        "انحدار",
    ),
    # Hindi
    "hi": (
        "प्रमेय", "उपपत्ति", "बहुपद", "समीकरण", "आव्यूह", "सारणिक", "अवकलज", "अवकलन", "समाकलन",
        "प्रायिकता", "प्रसरण", "लघुगणक", "त्रिकोणमिति", "अभाज्य", "गुणनखंड", "वर्गमूल",
        "घातांक", "गुणांक", "बीजगणित", "ज्यामिति", "मानक विचलन", "क्रमचय", "समाश्रयण",
        "सहसंबंध",
    ),
}  # fmt: skip

# Scripts written without spaces between words (Thai, Lao, Tibetan, Myanmar, Khmer), as
# code-point ranges (end excluded): the recall classifier reads them one character per token
# (``classifier.prepare``) and the prior counts their words as characters / 4.
UNSPACED_RANGES = ((0x0E00, 0x1000), (0x1000, 0x10A0), (0x1780, 0x1800))
UNSPACED = re.compile("[" + "".join(f"{chr(a)}-{chr(b - 1)}" for a, b in UNSPACED_RANGES) + "]")

# The languages (ISO 639-1, as curate's language ID writes them) whose math words the prior
# knows: its own lists (prior.py) and the ones above. In any other language the prior's
# silence says nothing about a document, so the final selection does not read it as "no
# math" (``augment/prior_split.py``). ``code`` and an unknown language count as covered:
# code and English docs are where a prior of 0 was measured to mean "not math".
LEXICON_LANGS = frozenset(
    """
en fr de es it pt ru zh ja el pl cs sk tr hu fi nl sv da no id ms ro uk ko vi ar hi
ca gl eu et sl hr sr bs lv lt bg code ?
""".split()
)


def known(langs: np.ndarray) -> np.ndarray:
    """Whether the lexicon knows each language code, in any spelling (``en-GB``, ``eng``);
    an empty code is unknown (``?``), as a missing one is."""
    uniq, inv = np.unique(langs.astype(str), return_inverse=True)
    return np.array([(canonical_lang(u) or "?") in LEXICON_LANGS for u in uniq], dtype=bool)[inv]


__all__ = ["LEXICON_LANGS", "PHRASES", "STEMS", "UNSPACED", "UNSPACED_RANGES", "known"]
