"""Multilingual keywords for site chrome: consent banners, navigation, legal footers, sharing.

Plain lower-case substrings (matched with ``in`` on a lower-cased line), grouped by what they
mark. A line is judged on the combination (``lines.py``): the word "cookie" alone is not
chrome (HTTP documentation is full of it), "we use cookies ... you agree" in a short line is.
Stems are used where a language inflects (``akzept`` for akzeptieren/akzeptiere, ``соглас``
for согласие/соглашаетесь). Languages: en de fr es it pt nl pl cs sk sv da no fi hu ro tr ru uk
bg el ja ko zh vi id he fa ar hi ca.
"""

from __future__ import annotations

# The tracking technology itself, as each language names it.
COOKIE = (
    "cookie", "galeta", "galete", "kakor", "evästee", "sütik", "süti ", "sütit", "çerez",
    "куки", "кукі", "ciasteczk", "쿠키", "クッキー", "עוגיות", "کوکی", "कुकी", "ملفات تعريف الارتباط",
    "gdpr", "rgpd", "dsgvo",
)  # fmt: skip

# What a banner asks the reader to do about it (accept, agree, set preferences, refuse).
CONSENT = (
    "accept", "agree", "consent", "preferences", "settings", "manage", "reject", "decline",
    "allow", "opt out", "opt-out", "akzept", "zustimm", "stimmen sie", "einwillig",
    "einstellungen", "ablehnen", "zulassen", "paramètres", "préférences", "refuser",
    "autoriser", "acept", "consentimiento", "configuración", "preferencias", "rechazar",
    "accett", "consenso", "impostazioni", "preferenze", "rifiut", "aceit", "concorda",
    "consentimento", "configurações", "preferências", "recusar", "akkoord", "toestemming",
    "instellingen", "voorkeuren", "weigeren", "akceptuj", "zgod", "ustawienia", "preferencje",
    "odrzuć", "přijmout", "souhlas", "nastavení", "odmítnout", "súhlas", "godkänn",
    "samtycke", "inställningar", "neka", "samtykke", "indstillinger", "afvis", "innstillinger",
    "hyväksy", "suostum", "asetukset", "hylkää", "elfogad", "hozzájárul", "beállítás",
    "elutasít", "acord", "setări", "refuz", "kabul", "onay", "ayarlar", "reddet", "приня",
    "соглас", "настройк", "отклон", "прийня", "пого", "налаштув", "відхил", "αποδοχ",
    "αποδέχ", "συγκατάθεση", "ρυθμίσεις", "απόρριψη", "同意", "設定", "拒否", "許可", "동의",
    "설정", "거부", "허용", "接受", "设置", "拒绝", "chấp nhận", "đồng ý", "cài đặt",
    "từ chối", "terima", "setuju", "pengaturan", "tolak", "אישור", "הסכמה", "הגדרות", "پذیرش",
    "موافقت", "تنظیمات", "موافق", "قبول", "स्वीकार", "सहमत", "सेटिंग", "consentiment",
    "configuració", "rebutja",
)  # fmt: skip

# The site speaking of itself ("we use", "this website"): banners do, documentation rarely.
SITE = (
    "website", "web site", "our site", "this site", "we use", "our use", "webseite",
    "wir verwenden", "wir nutzen", "diese seite", "notre site", "ce site", "nous utilisons",
    "sitio", "utilizamos", "usamos", "sito", "utilizziamo", "usiamo", "nosso site",
    "este site", "wij gebruiken", "we gebruiken", "strona", "stron", "serwis", "używamy",
    "webu", "web ", "používáme", "webbplats", "vi använder", "hjemmeside", "websted",
    "vi bruger", "nettsted", "vi bruker", "sivusto", "käytämme", "weboldal", "webhely",
    "használ", "site-ul", "folosim", "sitemiz", "site ", "kullanıyoruz", "сайт", "используем",
    "використовуємо", "ιστότοπ", "χρησιμοποιούμε", "サイト", "使用して", "사이트", "사용합니다",
    "网站", "本站", "我们使用", "trang web", "chúng tôi sử dụng", "situs", "kami menggunakan",
    "אתר", "משתמשים", "سایت", "استفاده می", "موقع", "نستخدم", "वेबसाइट", "उपयोग करते",
    "lloc web", "utilitzem",
)  # fmt: skip

# Legal footer wording: privacy, terms, rights, imprint.
POLICY = (
    "privacy policy", "privacy notice", "privacy statement", "terms of use", "terms of service",
    "terms and conditions", "all rights reserved", "legal notice", "cookie policy", "imprint",
    "datenschutz", "nutzungsbedingungen", "alle rechte vorbehalten", "impressum", "agb",
    "politique de confidentialité", "conditions d'utilisation", "conditions générales",
    "tous droits réservés", "mentions légales", "política de privacidad", "términos de uso",
    "términos y condiciones", "todos los derechos reservados", "aviso legal",
    "informativa sulla privacy", "termini di utilizzo", "termini e condizioni",
    "tutti i diritti riservati", "note legali", "política de privacidade", "termos de uso",
    "todos os direitos reservados", "privacybeleid", "privacyverklaring",
    "gebruiksvoorwaarden", "alle rechten voorbehouden", "colofon", "polityka prywatności",
    "regulamin", "wszelkie prawa zastrzeżone", "nota prawna", "ochrany osobních údajů",
    "podmínky použití", "všechna práva vyhrazena", "právní informace", "integritetspolicy",
    "användarvillkor", "alla rättigheter förbehållna", "privatlivspolitik", "brugsbetingelser",
    "alle rettigheder forbeholdes", "personvern", "tietosuoja", "käyttöehdot",
    "kaikki oikeudet pidätetään", "adatvédelmi", "felhasználási feltételek",
    "minden jog fenntartva", "impresszum", "politica de confidențialitate",
    "termeni și condiții", "toate drepturile rezervate", "gizlilik politikası",
    "kullanım koşulları", "tüm hakları saklıdır", "yasal uyarı", "политика конфиденциальности",
    "пользовательское соглашение", "все права защищены", "політика конфіденційності",
    "умови використання", "усі права захищено", "всі права захищені", "πολιτική απορρήτου",
    "όροι χρήσης", "με επιφύλαξη παντός δικαιώματος", "プライバシーポリシー", "利用規約",
    "無断転載", "個人情報保護方針", "개인정보처리방침", "개인정보 처리방침", "이용약관",
    "모든 권리 보유", "무단 전재", "隐私政策", "隱私權政策", "使用条款", "版权所有",
    "保留所有权利", "法律声明", "chính sách bảo mật", "điều khoản sử dụng", "bảo lưu mọi quyền",
    "kebijakan privasi", "syarat penggunaan", "syarat dan ketentuan", "hak cipta dilindungi",
    "מדיניות פרטיות", "תנאי שימוש", "כל הזכויות שמורות", "حریم خصوصی", "شرایط استفاده",
    "تمامی حقوق", "سياسة الخصوصية", "جميع الحقوق محفوظة", "गोपनीयता नीति", "उपयोग की शर्तें",
    "सर्वाधिकार सुरक्षित", "política de privadesa", "condicions d'ús", "tots els drets reservats",
    "avís legal",
)  # fmt: skip

# Menu, paging and sharing items: chrome when a line is only these, or a list of them.
NAV = frozenset(
    """home|about|about us|contact|contact us|blog|news|search|log in|login|sign in|sign up|
    register|menu|next|previous|prev|back|read more|more|share|follow us|subscribe|newsletter|
    related articles|related posts|tags|categories|archive|sitemap|skip to content|
    back to top|comments|reply|print|startseite|über uns|kontakt|suche|anmelden|registrieren|
    weiter|zurück|weiterlesen|teilen|folgen sie uns|accueil|qui sommes-nous|rechercher|
    se connecter|s'inscrire|suivant|précédent|lire la suite|partager|suivez-nous|inicio|
    quiénes somos|contacto|buscar|iniciar sesión|registrarse|siguiente|anterior|leer más|
    compartir|síguenos|chi siamo|contatti|cerca|accedi|registrati|successivo|precedente|
    leggi tutto|condividi|seguici|início|sobre nós|contato|pesquisar|entrar|cadastre-se|
    próximo|leia mais|compartilhar|siga-nos|over ons|zoeken|inloggen|registreren|volgende|
    vorige|lees meer|delen|volg ons|strona główna|o nas|szukaj|zaloguj się|zarejestruj się|
    następny|poprzedni|czytaj więcej|udostępnij|obserwuj nas|domů|o nás|hledat|
    přihlásit se|registrace|další|předchozí|číst dále|sdílet|sledujte nás|hem|om oss|sök|
    logga in|registrera dig|nästa|föregående|läs mer|dela|följ oss|forside|om os|søg|
    log ind|opret konto|næste|forrige|læs mere|del|følg os|etusivu|tietoa meistä|
    yhteystiedot|blogi|haku|kirjaudu sisään|rekisteröidy|seuraava|edellinen|lue lisää|jaa|
    seuraa meitä|főoldal|rólunk|kapcsolat|keresés|bejelentkezés|regisztráció|következő|
    előző|tovább olvasom|megosztás|kövess minket|acasă|despre noi|caută|autentificare|
    înregistrare|următorul|citește mai mult|distribuie|urmărește-ne|ana sayfa|hakkımızda|
    iletişim|ara|giriş yap|kayıt ol|sonraki|önceki|devamını oku|paylaş|bizi takip edin|
    главная|о нас|контакты|блог|поиск|войти|регистрация|далее|назад|читать далее|
    поделиться|головна|про нас|контакти|пошук|увійти|реєстрація|далі|читати далі|
    поділитися|αρχική|σχετικά με εμάς|επικοινωνία|ιστολόγιο|αναζήτηση|σύνδεση|εγγραφή|
    επόμενο|προηγούμενο|διαβάστε περισσότερα|κοινοποίηση|ホーム|会社概要|お問い合わせ|ブログ|
    検索|ログイン|新規登録|次へ|前へ|続きを読む|シェア|홈|회사 소개|문의하기|블로그|검색|
    로그인|회원가입|다음|이전|더 보기|공유하기|首页|关于我们|联系我们|博客|搜索|登录|注册|
    下一页|上一页|阅读更多|分享|关注我们|trang chủ|giới thiệu|liên hệ|tìm kiếm|đăng nhập|
    đăng ký|tiếp|trước|xem thêm|chia sẻ|beranda|tentang kami|kontak|cari|masuk|daftar|
    berikutnya|sebelumnya|baca selengkapnya|bagikan|ikuti kami|דף הבית|אודות|צור קשר|
    חיפוש|התחברות|הרשמה|הבא|הקודם|קרא עוד|שיתוף|خانه|درباره ما|تماس با ما|جستجو|ورود|
    بعدی|قبلی|ادامه مطلب|होम|हमारे बारे में|संपर्क करें|खोजें|लॉग इन|अगला|पिछला|और पढ़ें|
    inici|qui som|contacte|cerca|següent|llegeix més|comparteix|segueix-nos"""
    .replace("\n", "").replace("    ", "").split("|")
)  # fmt: skip

# Social networks named on sharing bars.
SOCIAL = frozenset((
    "facebook", "twitter", "linkedin", "pinterest", "whatsapp", "instagram", "telegram",
    "reddit", "youtube", "tiktok", "weibo", "wechat", "微信", "微博", "vkontakte", "xing",
    "e-mail", "email", "x",
))  # fmt: skip

# Licence and copyright texts: a document with these keeps its "All rights reserved" line.
LICENCE = (
    "licen", "hereby granted", "redistribut", "warrant", "copyright (c)",
    "copyright:", "spdx", "public domain", "gnu general public",
)  # fmt: skip
