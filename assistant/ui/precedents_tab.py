"""The « Précédents » tab: experiences ranked for a need, then 2 to 6 of them compared side by side.

Ranking, filters, similar-territory reasons and the comparison table come from
``assistant.experiences``; this module turns them into HTML cards and a table, and
writes the table's CSV and Markdown downloads.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.experiences.compare import MAX_COLUMNS, MIN_COLUMNS, ComparisonTable
from assistant.experiences.precedents import TERRITORY_KINDS, Precedent, PrecedentRequest, parse_period
from assistant.experiences.records import ExperienceCard
from assistant.experiences.territory import canonical_region
from assistant.notes.desk import ExperienceDesk
from assistant.notes.export import ExportFolder, footnote_text
from assistant.ui.document_view import document_link
from assistant.ui.updates import KEEP, Outputs

LIMIT = 8  # experiences shown for a need
TERRITORY_TYPES = [*TERRITORY_KINDS, "commune"]
UNSTATED = "non renseigné"
FICTIONAL = ' <span class="fictional">fictif</span>'

CSS = """
.precedent-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem;
  margin: .5rem 0; background: var(--background-fill-primary); }
.precedent-title { font-weight: 600; }
.precedent-rank { font-weight: 700; color: #b45309; }
.fictional { font-size: .75em; border: 1px solid #b45309; color: #b45309; border-radius: 4px; padding: 0 .3em; }
.precedent-facts { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .6rem; margin: .4rem 0;
  font-size: .9em; }
.precedent-facts dt { color: var(--body-text-color-subdued); }
.precedent-facts dd { margin: 0; }
.precedent-why { font-size: .9em; }
.precedent-quote { margin: .4rem 0; padding-left: .6rem; border-left: 3px solid var(--border-color-primary);
  font-size: .9em; }
.comparison { border-collapse: collapse; width: 100%; font-size: .88em; }
.comparison th, .comparison td { border: 1px solid var(--border-color-primary); padding: .35rem .5rem;
  vertical-align: top; text-align: left; }
.comparison td.missing { color: var(--body-text-color-subdued); font-style: italic; }
.compare-notes { font-size: .8em; color: var(--body-text-color-subdued); list-style: none; padding-left: 0; }
"""


def card_link(card: ExperienceCard, page: int | None = None) -> str | None:
    fmt = Path(card.source).suffix.lower().lstrip(".")
    return document_link(card.doc_id, {"source": card.source, "url": card.url, "format": fmt}, page)


def _place(card: ExperienceCard) -> str:
    t = card.territory
    named = [v.value for v in (t.intercommunality or t.commune, t.region) if v is not None]
    if t.population:
        named.append(t.population.value)
    return ", ".join(named) or UNSTATED


def _period(card: ExperienceCard) -> str:
    if card.period:
        return card.period.value
    if card.start_year:
        return f"{card.start_year}–{card.end_year}" if card.end_year else f"depuis {card.start_year}"
    return UNSTATED


def precedent_card(rank: int, precedent: Precedent) -> str:
    """One experience: title, territory, period, lead, budget, why it was chosen, the passage and its document."""
    card = precedent.card
    facts = {
        "Territoire": _place(card),
        "Période": _period(card),
        "Porteur": card.lead.value if card.lead else UNSTATED,
        "Budget": card.budget.value if card.budget else UNSTATED,
    }
    rows = "".join(f"<dt>{k}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items())
    why = " ; ".join(precedent.reasons) or "proche du besoin dans la recherche"
    quote = ""
    if precedent.passage:
        sentence = " ".join(precedent.passage.quote.split()).lstrip("-•* ")  # a list item's bullet is not quoted
        quote = f'<blockquote class="precedent-quote">« {html.escape(sentence)} »</blockquote>'
    opener = ""
    if link := card_link(card, precedent.page):
        where = f" à la page {precedent.page}" if precedent.page else ""
        opener = (
            f'<a class="source-open" href="{html.escape(link)}" target="_blank" rel="noopener">'
            f"Ouvrir le document{where} ↗</a>"
        )
    return (
        f'<article class="precedent-card" id="precedent-{rank}">'
        f'<header><span class="precedent-rank">{rank}.</span> '
        f'<span class="precedent-title">{html.escape(card.title)}</span>{FICTIONAL if card.fictional else ""}</header>'
        f'<dl class="precedent-facts">{rows}</dl>'
        f'<div class="precedent-why"><strong>Pourquoi :</strong> {html.escape(why)}</div>{quote}{opener}</article>'
    )


def precedents_html(found: Sequence[Precedent]) -> str:
    if not found:
        return '<p class="sources-empty">Aucune expérience ne correspond à ce besoin avec ces filtres.</p>'
    return "".join(precedent_card(rank, p) for rank, p in enumerate(found, 1))


def comparison_html(table: ComparisonTable) -> str:
    """The table (one column per experience, one row per field, a footnote per filled cell) and its notes."""
    head = "".join(f"<th>{html.escape(c.title)}{FICTIONAL if c.fictional else ''}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if cell.missing:
                cells.append(f'<td class="missing">{html.escape(cell.text)}</td>')
                continue
            marks = "".join(f'<sup class="note-ref">[{n}]</sup>' for n in cell.notes)
            full = f' title="{html.escape(cell.text)}"' if cell.brief else ""  # the whole list on hover
            cells.append(f"<td{full}>{html.escape(cell.shown)} {marks}</td>")
        body.append(f"<tr><th>{html.escape(row.label)}</th>{''.join(cells)}</tr>")
    notes = []
    links = {c.doc_id: card_link(c) for c in table.columns}
    for note in table.footnotes:
        link = links.get(note.doc_id)
        opener = f' <a href="{html.escape(link)}" target="_blank" rel="noopener">↗</a>' if link else ""
        notes.append(
            f'<li id="compare-note-{note.number}">[{note.number}] {html.escape(footnote_text(note))}{opener}</li>'
        )
    return (
        f'<table class="comparison"><thead><tr><th>Champ</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f'<ol class="compare-notes">{"".join(notes)}</ol>'
    )


@dataclass(frozen=True)
class FilterChoices:
    """The theme and region choices of the cards in the index."""

    themes: Any
    regions: Any


@dataclass(frozen=True)
class PrecedentsView:
    """What a search sets: the experience cards, the choices to compare, the status line."""

    status: str
    results: Any = KEEP
    picks: Any = KEEP


@dataclass(frozen=True)
class ComparisonView:
    """What « Comparer » sets: the table, its CSV and Markdown downloads, the status line."""

    status: str
    table: Any = KEEP
    csv_file: Any = KEEP
    md_file: Any = KEEP


class PrecedentsTab:
    """Event handlers of the tab; per-session data stays in the browser's components."""

    def __init__(self, desk: ExperienceDesk, exports: ExportFolder) -> None:
        self.desk = desk
        self.exports = exports

    def filter_choices(self) -> FilterChoices:
        """Theme and region choices from the cards of the index as it is now."""
        cards = self.desk.refresh()
        themes = sorted({t for c in cards for t in c.themes}, key=str.casefold)
        regions = sorted({canonical_region(c.territory.region.value) or "" for c in cards if c.territory.region} - {""})
        return FilterChoices(gr.update(choices=themes, value=[]), gr.update(choices=regions, value=[]))

    def search(
        self,
        need: str,
        territory: str,
        themes: list[str] | None,
        regions: list[str] | None,
        kinds: list[str] | None,
        period: str,
    ) -> PrecedentsView:
        if not (need or "").strip():
            return PrecedentsView("Décrivez d'abord votre besoin (par exemple « plateforme mobilité »).")
        try:
            years = parse_period(period) if (period or "").strip() else None
        except ValueError as exc:
            return PrecedentsView(f"✗ {exc}")
        request = PrecedentRequest(
            need.strip(),
            territory=(territory or "").strip() or None,
            themes=tuple(themes or ()),
            regions=tuple(regions or ()),
            territory_types=tuple(kinds or ()),
            period=years,
            limit=LIMIT,
        )
        self.desk.refresh()
        found = self.desk.precedents(request)
        picks = [(f"{rank}. {p.card.title}", p.card.doc_id) for rank, p in enumerate(found, 1)]
        plural = "s" if len(found) > 1 else ""
        status = f"{len(found)} expérience{plural} trouvée{plural}."
        if found:
            status += f" Cochez-en de {MIN_COLUMNS} à {MAX_COLUMNS} puis « Comparer »."
        return PrecedentsView(status, results=precedents_html(found), picks=gr.update(choices=picks, value=[]))

    def compare(self, picked: list[str] | None) -> ComparisonView:
        picked = list(picked or [])
        if not MIN_COLUMNS <= len(picked) <= MAX_COLUMNS:
            message = f"Cochez de {MIN_COLUMNS} à {MAX_COLUMNS} expériences à comparer ({len(picked)} cochée(s))."
            return ComparisonView(message)
        try:
            table = self.desk.compare(picked)
        except ValueError as exc:  # an experience removed from the index since the search
            return ComparisonView(f"✗ {exc}")
        csv_path, md_path = self.exports.comparison(table)
        status = f"Comparaison de {len(table.columns)} expériences : chaque case renseignée renvoie à sa source [n]."
        return ComparisonView(
            status,
            table=comparison_html(table),
            csv_file=gr.update(value=str(csv_path), visible=True),
            md_file=gr.update(value=str(md_path), visible=True),
        )


def build_precedents_tab(blocks: gr.Blocks, desk: ExperienceDesk, exports: ExportFolder) -> None:
    """The tab's components and events (call inside ``gr.Tabs``)."""
    tab = PrecedentsTab(desk, exports)
    with gr.Tab("Précédents", id="precedents"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=260):
                need = gr.Textbox(
                    label="Votre besoin", placeholder="plateforme mobilité, garde d'enfants…", elem_id="prec-need"
                )
                territory = gr.Textbox(
                    label="Votre territoire (facultatif)",
                    placeholder="ville moyenne de 50 000 habitants en Occitanie, QPV en centre ancien",
                    lines=2,
                    elem_id="prec-territory",
                )
                themes = gr.Dropdown(label="Thèmes", multiselect=True, choices=[], elem_id="prec-themes")
                regions = gr.Dropdown(label="Régions", multiselect=True, choices=[], elem_id="prec-regions")
                kinds = gr.Dropdown(
                    label="Type de territoire", multiselect=True, choices=TERRITORY_TYPES, elem_id="prec-kinds"
                )
                period = gr.Textbox(label="Période", placeholder="2019-2024", elem_id="prec-period")
                search = gr.Button("Rechercher", variant="primary", elem_id="prec-search")
            with gr.Column(scale=3):
                status = gr.Markdown(
                    "Décrivez un besoin pour retrouver des expériences comparables.", elem_id="prec-status"
                )
                results = gr.HTML(css_template=CSS, js_on_load=None, elem_id="prec-results")
                picked = gr.CheckboxGroup(label="Expériences à comparer (2 à 6)", choices=[], elem_id="prec-pick")
                with gr.Row():
                    compare = gr.Button("Comparer", scale=1, elem_id="prec-compare")
                    compare_status = gr.Markdown(elem_id="compare-status")
                table = gr.HTML(css_template=CSS, js_on_load=None, elem_id="compare-table")
                with gr.Row():
                    csv_file = gr.File(label="Tableau (CSV)", interactive=False, visible=False, elem_id="compare-csv")
                    md_file = gr.File(
                        label="Tableau (Markdown)", interactive=False, visible=False, elem_id="compare-md"
                    )
    quiet = {"show_progress": "hidden"}  # Gradio's overlay would say « processing | 0.2s » in English
    choices = Outputs(themes=themes, regions=regions)
    blocks.load(choices.adapt(tab.filter_choices), outputs=choices.components, **quiet)
    inputs = [need, territory, themes, regions, kinds, period]
    found = Outputs(results=results, picks=picked, status=status)
    for trigger in (need.submit, search.click):
        trigger(found.adapt(tab.search), inputs, found.components, **quiet)
    compared = Outputs(table=table, csv_file=csv_file, md_file=md_file, status=compare_status)
    compare.click(compared.adapt(tab.compare), [picked], compared.components, **quiet)
