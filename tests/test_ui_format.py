"""The chat's formatting (pure): answers with linked markers, refusals, notices, the stream, source cards."""

from __future__ import annotations

from assistant.pipeline import Delta, Status
from assistant.types import Answer, AnswerSentence, Chunk, Citation, Hit, Passage
from assistant.ui.chat import answer_markdown, highlight, link_citations, render_stream, source_cards, sources_panel

PASSAGE_TEXT = (
    "Le comité de pilotage réunit l'État et l'intercommunalité. "
    "Il se réunit deux fois par an pour suivre le pilier économique. Les associations y sont invitées."
)
QUOTE = "Il se réunit deux fois par an pour suivre le pilier économique."


def _passage(number: int = 1, text: str = PASSAGE_TEXT, start: int = 100) -> Passage:
    chunk = Chunk(
        chunk_id=f"doc1-abc-{number}",
        doc_id="doc1",
        index=0,
        text=text,
        start=start,
        end=start + len(text),
        page=3,
        heading_path=("Gouvernance",),
        metadata={"title": "Piloter le pilier", "source": "/corpus/piloter.pdf", "format": "pdf"},
    )
    return Passage(number=number, hit=Hit(chunk=chunk, score=0.5), text=text, start=start, end=start + len(text))


def _citation(number: int = 1, quote: str = QUOTE, start: int = 159) -> Citation:
    return Citation(
        number=number,
        chunk_id=f"doc1-abc-{number}",
        doc_id="doc1",
        title="Piloter le pilier <économique>",
        page=3,
        source="/corpus/piloter.pdf",
        url=None,
        quote=quote,
        start=start,
        end=start + len(quote),
        organisation="Centre de ressources (fictif)",
        date="2024-06-20",
    )


def _answer(**changes) -> Answer:
    fields = {
        "question": "Qui pilote le pilier économique ?",
        "text": "Le comité se réunit deux fois par an. [1]",
        "citations": (_citation(),),
        "refused": False,
        "answerer": "offline",
        "passages": (_passage(),),
    }
    return Answer(**{**fields, **changes})


def _link(citation: Citation) -> str:
    return f"/doc{citation.source}#page={citation.page}"


def test_markers_become_links_to_the_cards_of_their_turn():
    assert link_citations("A. [1] B. [2]", 3, {1, 2}) == "A. [\\[1\\]](#source-3-1) B. [\\[2\\]](#source-3-2)"


def test_answer_markdown_links_markers_and_names_the_answerer():
    text = answer_markdown(_answer(), 0)
    assert text.startswith("Le comité se réunit deux fois par an. [\\[1\\]](#source-0-1)")
    assert text.endswith("<sub>Réponse : hors ligne (extraits du corpus)</sub>")


def test_refusal_is_a_distinct_state_with_the_nearest_documents():
    answer = _answer(
        text="Je ne trouve pas cette information dans le corpus. Documents les plus proches : « A » ; « B ».",
        citations=(),
        refused=True,
    )
    text = answer_markdown(answer, 0)
    assert text.startswith("> 🔎 **Je ne trouve pas cette information dans le corpus.**")
    assert "> Documents les plus proches : « A » ; « B »." in text
    assert "Reformulez la question" in text


def test_notice_is_shown_before_the_answer():
    text = answer_markdown(_answer(notice="Le service de génération a échoué (délai dépassé)."), 0)
    assert text.startswith("> ⚠️ **Service de génération indisponible.** Le service de génération a échoué")


def test_unsupported_sentences_are_marked_where_they_stand_and_counted_for_the_reader():
    text = answer_markdown(
        _answer(
            text="Le comité se réunit deux fois par an. [1] Le maire a démissionné. (non étayé par les sources)",
            unsupported_sentences=1,
        ),
        0,
    )
    assert "Le maire a démissionné. ⚠️ *non étayé par les sources*" in text
    assert "_⚠️ 1 phrase non étayée par les sources : à vérifier._" in text


def test_hidden_unsupported_sentences_are_still_counted():
    hidden = AnswerSentence("Le maire a démissionné.", "unsupported", shown=False)
    text = answer_markdown(_answer(unsupported_sentences=2, sentences=(hidden, hidden)), 0)
    assert "Le maire" not in text
    assert "_⚠️ 2 phrases non étayées par les sources : à vérifier (2 masquées par le réglage" in text


def test_stream_shows_status_then_deltas_then_the_final_answer_replaces_them():
    final = _answer()
    steps = list(render_stream([Status("Recherche…"), Delta("Le comité "), Delta("se réunit."), final], turn=2))
    assert [s.markdown for s in steps[:3]] == ["_⏳ Recherche…_", "Le comité ", "Le comité se réunit."]
    assert steps[-1].answer is final
    assert steps[-1].markdown == answer_markdown(final, 2)


def test_highlight_marks_the_quote_at_its_offset_and_escapes_html():
    html = highlight("a < b. " + QUOTE + " Fin.", QUOTE, offset=7)
    assert html == f"a &lt; b. <mark>{QUOTE}</mark> Fin."


def test_highlight_finds_the_quote_when_the_offset_is_wrong_and_clips_long_context():
    text = "mot " * 200 + QUOTE + " suite" * 200
    html = highlight(text, QUOTE, offset=0, context=20)
    assert html.startswith("…") and html.endswith("…")
    assert f"<mark>{QUOTE}</mark>" in html
    assert len(html) < 120


def test_highlight_without_the_quote_shows_the_passage_unmarked():
    assert highlight("Un texte.", "absent") == "Un texte."


def test_source_card_shows_title_organisation_date_page_quote_and_link():
    html = source_cards(_answer(), 0, _link)
    assert 'id="source-0-1"' in html
    assert "Piloter le pilier &lt;économique&gt;" in html
    assert "Centre de ressources (fictif) · 2024-06-20 · p. 3" in html
    assert f"<mark>{QUOTE}</mark>" in html
    assert "pilotage réunit l&#x27;État" in html  # the passage around the quote, escaped
    assert 'href="/doc/corpus/piloter.pdf#page=3"' in html and "Ouvrir le document à la page 3" in html


def test_source_cards_of_a_refusal_say_so():
    assert "Aucune source : la réponse n'a pas été trouvée dans le corpus." in source_cards(
        _answer(citations=(), refused=True), 0, _link
    )


def test_sources_panel_opens_the_latest_answer_and_folds_earlier_ones():
    html = sources_panel([_answer(question="Première ?"), _answer(question="Seconde ?")], _link)
    assert html.index('id="sources-1" open') < html.index('id="sources-0">')
    assert 'id="source-0-1"' in html and 'id="source-1-1"' in html
    assert "Les sources des réponses apparaîtront ici" in sources_panel([], _link)
