"""Help pages as the web serves them: headings over lists of steps, procedures that share
steps. The line and repetition rules must keep them and still drop menus and repeated lists."""

from __future__ import annotations

from datatrove.data import Document

from qurate.contract.rejects import REJECT_REASON
from qurate.filters.heuristics.config import FineWebConfig, GopherRepetitionConfig, HeuristicsConfig
from qurate.filters.heuristics.procedures import collapse_repeated_steps
from qurate.filters.heuristics.rules import Heuristics
from qurate.filters.heuristics.stats import line_stats

# Extracted text of a help page: no "#" marks, section headings over steps (as Trafilatura
# writes a GNOME help page; the Korean one ends in a "related articles" link left by the
# site template).
HELP_EN = """Find your IP address
Knowing your IP address can help you troubleshoot problems with your internet connection.
Find your wired connection's internal IP address
- Open the Activities overview and start typing Settings.
- Click on Settings.
- Click on Network in the sidebar to open the panel.
- Click the settings button next to the active connection for the IP address and other details.
Find your wireless connection's internal IP address
- Open the Activities overview and start typing Settings.
- Click on Settings.
- Click on Wi-Fi in the sidebar to open the panel.
- Click the settings button next to the active connection for the IP address and other details.
Find your external IP address
- Visit whatismyipaddress.com.
- The site will display your external IP address for you.
Depending on how your computer connects to the internet, both addresses may be the same."""

HELP_KO = """IP 주소 찾기
IP 주소를 알면 인터넷 연결 문제 해결에 도움이 될 수 있습니다. IP 주소에 두가지 방식이 있습니다.
유선 연결 내부 IP 주소 찾기
- 현재 활동 개요를 열고 설정 입력을 시작합니다.
- 설정을 누릅니다.
- 가장자리 창에서 네트워크를 눌러 창을 엽니다.
무선 연결의 내부 IP 주소 찾기
- 가장자리 창에서 와이파이를 눌러 창을 엽니다.
- 활성 연결 옆 설정 단추를 눌러 IP 주소 및 기타 세부 설정을 확인합니다.
외부 IP 주소 찾기
- 이 사이트를 방문하면 여러분이 사용하는 외부 IP 주소를 알려줍니다.
컴퓨터의 인터넷 연결 방식에 따라 내외부 주소가 같을 수 있습니다.
관련 기사"""

MENU = "\n".join(
    ["Home", "News", "Sports", "Weather", "Travel", "Shop", "Careers", "Contact us", "Log in"]
    + ["Our newsroom publishes stories about the city every day of the week, all year long."]
    + ["Privacy", "Terms", "Cookies", "Accessibility", "Advertise", "Sitemap", "Help centre"]
)


def reason(text: str, cfg: HeuristicsConfig | None = None, lang: str = "en") -> str | None:
    doc = Document(text=text, id="d", metadata={"lang": lang})
    list(Heuristics(cfg).run(iter([doc])))
    return doc.metadata.get(REJECT_REASON)


def no_context() -> HeuristicsConfig:
    return HeuristicsConfig(fineweb=FineWebConfig(context_headings=False))


def no_steps() -> HeuristicsConfig:
    return HeuristicsConfig(gopher_repetition=GopherRepetitionConfig(repeated_steps_max_frac=None))


def test_headings_are_known_by_the_list_or_sentence_they_introduce() -> None:
    lines = HELP_EN.split("\n")
    st = line_stats(lines, (".", ":"), 30, 3, context_headings=True)
    # The title (over a sentence) and the three section headings (over steps).
    assert st.n_ctx_heading == 4
    assert st.n_bullet_punct == 10  # every step ends in a full stop
    assert line_stats(lines, (".", ":"), 30, 3).n_ctx_heading == 0


def test_help_page_of_headings_and_steps_is_kept() -> None:
    ko = "\n".join(HELP_KO.split("\n")[:4] + HELP_KO.split("\n")[6:])  # no repeated step
    assert reason(ko, lang="ko") is None
    # Without the context, its headings are short unpunctuated "prose" lines.
    assert reason(ko, no_context(), lang="ko") == "fineweb_short_line_ratio"


def test_menu_lines_introduce_nothing_and_still_count() -> None:
    assert reason(MENU) == "fineweb_short_line_ratio"


def test_procedures_that_share_steps_are_kept() -> None:
    assert reason(HELP_EN) is None
    # Judged on the repeats, the shared steps are repeated text.
    assert reason(HELP_EN, no_steps()) is not None
    assert reason(HELP_EN, no_steps()).startswith(("gopher_rep_", "fineweb_char_dup"))


def test_a_list_repeated_over_and_over_is_not_a_procedure() -> None:
    items = [f"- {s}" for s in HELP_EN.split("\n") if s.startswith("- Click")]
    spam = HELP_EN.split("\n")[0:2] + items * 4
    text = "\n".join(spam)
    assert collapse_repeated_steps(text, 0.5) is None  # 3 of 4 items are repeats
    assert reason(text) is not None


def test_collapse_keeps_the_first_of_each_step_and_everything_else() -> None:
    out = collapse_repeated_steps(HELP_EN, 0.5)
    assert out is not None
    lines = out.split("\n")
    assert lines.count("- Click on Settings.") == 1
    assert "Find your wireless connection's internal IP address" in lines
    assert "- Click on Wi-Fi in the sidebar to open the panel." in lines
    assert len(lines) == len(HELP_EN.split("\n")) - 3
    assert collapse_repeated_steps("One line.\n- A step.\n- Another step.", 0.5) is None
