"""What reaches the page, the pure parts: escaped answers and links, document links, hosts, login delays."""

from __future__ import annotations

import pytest

from assistant.pipeline import Delta
from assistant.settings import Settings, UISettings
from assistant.types import Answer, Citation
from assistant.ui.chat import answer_markdown, render_stream, source_card
from assistant.ui.document_view import document_link
from assistant.ui.login import LoginThrottle
from assistant.ui.request_guard import allowed_names, host_name, is_allowed_host, is_allowed_origin
from assistant.ui.safe_text import escape_markdown, public_href, safe_href

PLANTED = (
    'Le comité se réunit. <img src="http://127.0.0.1:9999/track-body.gif"> '
    "[Connexion](http://127.0.0.1:9999/phish-login) ![x](http://t.example/p.gif) [1]"
)


def _citation(number: int = 1, **changes: object) -> Citation:
    fields = {
        "number": number,
        "chunk_id": f"d-v-{number}",
        "doc_id": "d",
        "title": "Titre <b>gras</b>",
        "page": None,
        "source": "/srv/a.md",
        "url": None,
        "quote": "Le comité se réunit.",
        "start": 0,
        "end": 20,
    }
    return Citation(**{**fields, **changes})


def _answer(text: str, citations: tuple[Citation, ...] = (_citation(),)) -> Answer:
    return Answer(question="Q ?", text=text, citations=citations, refused=False, answerer="offline")


# escaped answers


def test_escape_markdown_leaves_no_tag_link_or_image():
    escaped = escape_markdown(PLANTED)
    assert "<img" not in escaped and "&lt;img" in escaped
    assert "](" not in escaped.replace("\\](", "")  # every bracket escaped: no link, no image
    assert escape_markdown("a & b < c") == "a &amp; b &lt; c"
    assert escape_markdown("voir http://a.fr/x, HTTPS://b.fr et www.c.fr") == (
        "voir http\\://a.fr/x, HTTPS\\://b.fr et www\\.c.fr"  # no autolink either
    )


def test_answer_markdown_escapes_document_markup_and_links_only_real_sources():
    text = answer_markdown(_answer(PLANTED + " Et aussi [7] et [99]."), 0)
    assert "<img" not in text and "&lt;img" in text
    assert "[Connexion](" not in text and "![x](" not in text
    assert "[\\[1\\]](#source-0-1)" in text
    assert "#source-0-7" not in text and "#source-0-99" not in text
    assert "\\[7\\]" in text and "\\[99\\]" in text


def test_streamed_model_output_is_escaped():
    steps = list(render_stream([Delta("<img src=x onerror=alert(1)>"), Delta(" [a](javascript:x)")], turn=0))
    assert steps[-1].markdown == "&lt;img src=x onerror=alert(1)&gt; \\[a\\](javascript:x)"


def test_refusal_and_notice_are_escaped():
    refused = Answer(
        question="Q ?",
        text="Je ne trouve pas. Documents les plus proches : « <img src=x> ».",
        citations=(),
        refused=True,
        answerer="offline",
        notice="erreur <script>alert(1)</script>",
    )
    text = answer_markdown(refused, 0)
    assert "<img" not in text and "<script" not in text and "&lt;script&gt;" in text


def test_source_card_escapes_title_and_drops_a_javascript_link():
    card = source_card(_citation(), None, 0, "javascript:alert(1)")
    assert "<b>" not in card and "&lt;b&gt;" in card
    assert "href" not in card
    assert 'href="/documents/d"' in source_card(_citation(), None, 0, "/documents/d")
    assert "href" not in source_card(_citation(), None, 0, "//evil.example/x")


# links


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " data:text/html,x", "file:///etc/passwd", "/relative", None]
)
def test_safe_href_refuses_what_is_not_http(url):
    assert safe_href(url) is None


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://www.exemple-ressources.invalid/fiche", False),
        ("https://site.example/a", False),
        ("http://demo.test/a", False),
        ("https://www.example.org/a", False),
        ("http://intranet/doc", False),
        ("http://127.0.0.1:8000/a", False),
        ("http://10.0.0.5/a", False),
        ("http://localhost/a", False),
        ("https://www.anct.gouv.fr/fiche", True),
        ("http://8.8.8.8/a", True),
    ],
)
def test_public_href_keeps_only_addresses_a_reader_can_open(url, public):
    assert (public_href(url) == url) is public


def test_document_link_prefers_a_public_page_and_otherwise_the_local_copy():
    html_meta = {"source": "/srv/p.html", "format": "html"}
    assert document_link("h1", {**html_meta, "url": "https://www.anct.gouv.fr/p"}) == "https://www.anct.gouv.fr/p"
    assert document_link("h1", {**html_meta, "url": "https://www.exemple-ressources.invalid/p"}) == "/documents/h1"
    assert document_link("h1", {**html_meta, "url": "javascript:alert(1)"}) == "/documents/h1"
    assert document_link("p1", {"source": "/srv/docs/a b.pdf", "format": "pdf"}, 4) == "/documents/p1#page=4"
    assert document_link("d1", {"source": "/srv/a.docx", "format": "docx"}, 4) == "/documents/d1"
    assert document_link("u1", {"source": "https://x.fr/r.pdf", "format": "pdf"}, 2) == "https://x.fr/r.pdf#page=2"
    assert document_link("a/b", {"source": "/srv/a.md", "format": "md"}) == "/documents/a%2Fb"
    assert document_link("", {}) is None


# hosts and origins


def test_host_names_are_read_without_port_or_brackets():
    assert host_name("Example.org:7860") == "example.org"
    assert host_name("[::1]:7860") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"


def test_only_loopback_names_and_listed_hosts_are_allowed_by_default():
    names = allowed_names(UISettings())
    assert {"127.0.0.1", "localhost", "::1"} <= names
    assert not is_allowed_host("rebind.attacker.example", names, any_address=False)
    assert not is_allowed_host("192.168.1.10", names, any_address=False)
    assert not is_allowed_host("", names, any_address=False)
    shared = allowed_names(UISettings(host="0.0.0.0", allowed_hosts=["Assistant.Centre.fr"]))
    assert is_allowed_host("assistant.centre.fr", shared, any_address=True)
    assert is_allowed_host("192.168.1.10", shared, any_address=True)  # an address typed in the browser
    assert not is_allowed_host("rebind.attacker.example", shared, any_address=True)


def test_origins_must_be_http_pages_of_allowed_hosts():
    names = allowed_names(UISettings())
    assert is_allowed_origin("http://127.0.0.1:7860", names, any_address=False)
    assert not is_allowed_origin("http://evil.example", names, any_address=False)
    assert not is_allowed_origin("null", names, any_address=False)


def test_gradio_server_port_is_an_alias_of_the_ui_port(monkeypatch, tmp_path):
    from assistant.settings import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert load_settings().ui.port == 7999
    monkeypatch.setenv("ASSISTANT_UI__PORT", "7001")
    assert load_settings().ui.port == 7001
    assert Settings().ui.port == 7001


# login delays


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_login_delay_grows_with_failures_per_user_and_per_address_and_a_success_clears_it():
    clock = _Clock()
    throttle = LoginThrottle(free_attempts=3, base_delay_s=2, max_delay_s=60, clock=clock)
    assert [throttle.delay_s(n) for n in range(1, 9)] == [0, 0, 2, 4, 8, 16, 32, 60]
    user, here, there = "user:equipe", "address:10.0.0.1", "address:10.0.0.2"
    for _ in range(3):
        throttle.fail(user, here)
    assert throttle.wait_s(user, here) == 2
    assert throttle.wait_s("user:autre", here) == 2  # the address is held back whatever the name
    assert throttle.wait_s(user, there) == 2  # the name is held back whatever the address
    assert throttle.wait_s("user:autre", there) == 0
    clock.now += 2
    assert throttle.wait_s(user, here) == 0
    throttle.fail(user, here)
    assert throttle.wait_s(user, here) == 4
    clock.now += 4
    throttle.succeed(user, here)
    throttle.fail(user, here)
    assert throttle.wait_s(user, here) == 0  # counts start again after a success


# exports


def test_markdown_export_of_a_comparison_carries_no_tag_or_link_from_a_document():
    from assistant.experiences.compare import Cell, ComparisonTable, Footnote, Row
    from assistant.notes.export import table_to_markdown

    table = ComparisonTable(
        columns=(),
        rows=(Row("Budget", (Cell('40 000 € <img src="http://t.example/p.gif">', (1,)),)),),
        footnotes=(Footnote(1, "d", "Bilan [connexion](javascript:alert(1))", "/srv/b.md", ("40 000 €",)),),
    )
    exported = table_to_markdown(table)
    assert "<img" not in exported.replace("\\<img", "")
    assert "](javascript" not in exported and "]\\(javascript" in exported


def test_active_filters_show_metadata_values_as_text():
    from assistant.retrieval.filters import Filters
    from assistant.ui.facets import describe_filters

    shown = describe_filters(Filters(values={"organisation": ('Mairie <img src="http://t.example/p.gif">',)}))
    assert "<img" not in shown and "&lt;img" in shown
