"""Chat formatting (pure): assistant events -> chat markdown, answers -> source cards.

Citation markers ``[n]`` become links to ``#source-<turn>-<n>``, the id of the
card that shows the cited passage; the page script (assets.CLICK_JS) opens and
highlights that card when a marker is clicked. Turn numbers keep the cards of
earlier answers reachable after a follow-up question. Everything else in an answer
(document or model text) is escaped: it is shown as written, never as markup.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from assistant.citations import MARKER, UNSUPPORTED_MARK
from assistant.pipeline import Delta, Event, Status
from assistant.types import Answer, Citation, Passage
from assistant.ui.safe_text import escape_markdown, link_href

LinkFor = Callable[[Citation], str | None]
CONTEXT_CHARS = 280  # passage text shown on each side of the quote

ANSWERER_LABELS = {"offline": "hors ligne (extraits du corpus)"}


def card_id(turn: int, number: int) -> str:
    return f"source-{turn}-{number}"


def link_citations(text: str, turn: int, numbers: Collection[int]) -> str:
    """Escaped ``text`` whose markers of real sources become links: ``… [2]`` -> ``… [\\[2\\]](#source-<turn>-2)``.

    A marker whose number is not in ``numbers`` (the answer's sources) stays plain text.
    """
    parts: list[str] = []
    done = 0
    for match in MARKER.finditer(text):
        parts.append(escape_markdown(text[done : match.start()]))
        number = int(match.group(1))
        if number in numbers:
            parts.append(f" [\\[{number}\\]](#{card_id(turn, number)})")
        else:
            parts.append(escape_markdown(match.group(0)))
        done = match.end()
    parts.append(escape_markdown(text[done:]))
    return "".join(parts)


def answer_markdown(answer: Answer, turn: int) -> str:
    """The chat message of a final answer: notice, text with linked markers, refusal state, answerer."""
    parts: list[str] = []
    if answer.notice:
        parts.append(f"> ⚠️ **Service de génération indisponible.** {escape_markdown(answer.notice)}")
    if answer.refused:
        first, _, rest = escape_markdown(answer.text).partition(". ")
        lines = [f"> 🔎 **{first.rstrip('.')}.**"]
        if rest:
            lines.append(f"> {rest}")
        lines.append("> Reformulez la question, retirez des filtres ou ajoutez des documents.")
        parts.append("\n>\n".join(lines))
    else:
        parts.append(mark_unsupported(link_citations(answer.text, turn, {c.number for c in answer.citations})))
    if answer.unsupported_sentences:
        parts.append(unsupported_line(answer))
    label = ANSWERER_LABELS.get(answer.answerer, answer.answerer)
    parts.append(f"<sub>Réponse : {html.escape(label)}</sub>")
    return "\n\n".join(parts)


def mark_unsupported(text: str) -> str:
    """Each sentence no source supports, flagged where it stands: « ⚠️ *non étayé par les sources* »."""
    return text.replace(UNSUPPORTED_MARK, "⚠️ *non étayé par les sources*")


def unsupported_line(answer: Answer) -> str:
    """The count under the answer of its sentences no source supports, saying when they were hidden."""
    n = answer.unsupported_sentences
    hidden = sum(1 for s in answer.sentences if s.status == "unsupported" and not s.shown)
    plural = "s" if n > 1 else ""
    line = f"_⚠️ {n} phrase{plural} non étayée{plural} par les sources : à vérifier"
    if hidden:
        line += f" ({hidden} masquée{'s' if hidden > 1 else ''} par le réglage generation.hide_unsupported)"
    return line + "._"


def status_markdown(status: str, text_so_far: str = "") -> str:
    """The status line under the text streamed so far; ``text_so_far`` is already escaped."""
    line = f"_⏳ {escape_markdown(status)}_"
    return f"{text_so_far}\n\n{line}" if text_so_far else line


@dataclass(frozen=True)
class Rendered:
    """What the chat shows at one step of a stream; ``answer`` is set on the last step."""

    markdown: str
    answer: Answer | None = None


def render_stream(events: Iterable[Event], turn: int) -> Iterator[Rendered]:
    """Assistant events -> successive chat messages; the final Answer's text replaces the streamed text."""
    streamed = ""
    status = ""
    for event in events:
        if isinstance(event, Answer):
            yield Rendered(answer_markdown(event, turn), event)
            return
        if isinstance(event, Status):
            status = event.text
            yield Rendered(status_markdown(status, streamed))
        elif isinstance(event, Delta):
            streamed += escape_markdown(event.text)  # model output: shown as written
            yield Rendered(streamed)


def highlight(passage_text: str, quote: str, offset: int | None = None, context: int = CONTEXT_CHARS) -> str:
    """HTML of the passage around ``quote``, the quote inside ``<mark>``; ``offset`` is where it starts, if known.

    Text beyond ``context`` characters on either side is cut at a word and marked with "…".
    """
    start = offset if offset is not None and passage_text[offset : offset + len(quote)] == quote else -1
    if start < 0:
        start = passage_text.find(quote) if quote else -1
    if start < 0:  # not found: show the passage unmarked rather than a wrong highlight
        return html.escape(_clip_right(passage_text, 2 * context))
    end = start + len(quote)
    before = passage_text[max(0, start - context) : start]
    if start > context:
        before = "…" + before.split(" ", 1)[-1] if " " in before else "…" + before
    after = _clip_right(passage_text[end:], context)
    return f"{html.escape(before)}<mark>{html.escape(quote)}</mark>{html.escape(after)}"


def _clip_right(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def _passage_for(citation: Citation, passages: Sequence[Passage]) -> Passage | None:
    return next((p for p in passages if p.chunk.chunk_id == citation.chunk_id), None)


def source_card(citation: Citation, passage: Passage | None, turn: int, link: str | None) -> str:
    """One source card: number, title, organisation · date · page, highlighted passage, link to the document."""
    facts = [x for x in (citation.organisation, citation.date) if x]
    if citation.page:
        facts.append(f"p. {citation.page}")
    if passage is not None:
        body = highlight(passage.text, citation.quote, citation.start - passage.start)
    else:
        body = f"<mark>{html.escape(citation.quote)}</mark>"
    opener = ""
    link = link_href(link)
    if link:
        where = f" à la page {citation.page}" if citation.page else ""
        opener = (
            f'<a class="source-open" href="{html.escape(link)}" target="_blank" rel="noopener">'
            f"Ouvrir le document{where} ↗</a>"
        )
    return (
        f'<article class="source-card" id="{card_id(turn, citation.number)}">'
        f'<header><span class="source-number">[{citation.number}]</span> '
        f'<span class="source-title">{html.escape(citation.title or "Sans titre")}</span></header>'
        f'<div class="source-facts">{html.escape(" · ".join(facts))}</div>'
        f"{_currency_and_copies(citation)}"
        f'<blockquote class="source-quote">{body}</blockquote>{opener}</article>'
    )


def _currency_and_copies(citation: Citation) -> str:
    """The notice of an ended frame or a newer version, and the other files of the same document."""
    parts = []
    if citation.notice:
        parts.append(f'<div class="source-notice" role="note">⚠ {html.escape(citation.notice)}</div>')
    if citation.copies:
        names = ", ".join(html.escape(copy.rstrip("/").rsplit("/", 1)[-1]) for copy in citation.copies)
        parts.append(f'<div class="source-copies">Même document aussi dans : {names}</div>')
    return "".join(parts)


def source_cards(answer: Answer, turn: int, link_for: LinkFor) -> str:
    """All cards of one answer, in citation order; a short French line when there is none."""
    if not answer.citations:
        reason = "la réponse n'a pas été trouvée dans le corpus" if answer.refused else "aucun passage cité"
        return f'<p class="sources-empty">Aucune source : {reason}.</p>'
    return "".join(source_card(c, _passage_for(c, answer.passages), turn, link_for(c)) for c in answer.citations)


def sources_panel(answers: Sequence[Answer], link_for: LinkFor) -> str:
    """The panel beside the chat: the latest answer's sources open, earlier ones folded below."""
    if not answers:
        return (
            '<div class="sources-panel"><p class="sources-empty">Les sources des réponses apparaîtront ici : '
            "cliquez sur un renvoi [n] pour voir le passage cité.</p></div>"
        )
    groups = []
    for turn in range(len(answers) - 1, -1, -1):
        answer = answers[turn]
        is_open = " open" if turn == len(answers) - 1 else ""
        question = html.escape(_clip_right(answer.question, 90))
        groups.append(
            f'<details class="sources-turn" id="sources-{turn}"{is_open}>'
            f"<summary>Sources — {question}</summary>{source_cards(answer, turn, link_for)}</details>"
        )
    return f'<div class="sources-panel">{"".join(groups)}</div>'
