"""End to end: a scripted OpenAI-compatible server answers with faithful paraphrases and near-fabrications of the
demo corpus; the answer cites the paraphrases and marks the fabrications « non étayé par les sources »."""

from __future__ import annotations

import json

from fakes import stream_reply

from assistant.backends.llm import OpenAICompatibleChat
from assistant.cli.answers import answer_to_dict
from assistant.pipeline import Assistant
from assistant.ui.chat import answer_markdown

QUESTION = "Quels résultats pour la plateforme mobilité de Valbrune en 2022 ?"
PARAPHRASES = [
    "En 2022, la plateforme disposait d'un budget de 312 k€ [1].",
    "Elle a accompagné 486 personnes en 2022, dont 61 % habitent un QPV.",
]
FABRICATIONS = [
    "Le budget 2022 de la plateforme s'élève à 321 000 euros [1].",  # a number changed
    "La Région Occitanie a apporté 55 000 € au budget de la plateforme [1].",  # a territory changed
    "En 2022, 486 personnes ont été accompagnées, dont 74 % habitent un quartier prioritaire.",  # 74 is the permits
]


def _assistant(demo_index, endpoint, *, hide: bool = False) -> Assistant:
    chat = OpenAICompatibleChat(base_url=endpoint.base_url, api_key="test", model="scripted", timeout_s=5)
    settings = demo_index.settings.generation.model_copy(update={"hide_unsupported": hide})
    return Assistant(
        demo_index.searcher,
        demo_index.store,
        settings,
        chat_model=lambda: chat,
        count_tokens=demo_index.prompt_tokens,
        max_prompt_tokens=2500,
    )


def test_paraphrases_are_cited_and_fabrications_marked(demo_index, endpoint):
    endpoint.replies = [stream_reply([" ".join(PARAPHRASES + FABRICATIONS)])]

    answer = _assistant(demo_index, endpoint).ask(QUESTION)

    assert not answer.refused, answer.text
    statuses = [(s.text, s.status) for s in answer.sentences]
    assert statuses == [(s.replace(" [1]", ""), "cited") for s in PARAPHRASES] + [
        (s.replace(" [1]", ""), "unsupported") for s in FABRICATIONS
    ]
    cited = {s.citation for s in answer.sentences if s.citation}
    quotes = " ".join(c.quote for c in answer.citations if c.number in cited)
    assert "312 000 euros" in quotes and "486 personnes" in quotes
    assert all(c.title.startswith("Mob'Acacias") for c in answer.citations)
    assert answer.unsupported_sentences == 3
    assert answer.removed_markers == 2  # the [1] written after the two fabrications

    shown = answer_markdown(answer, 0)
    assert shown.count("⚠️ *non étayé par les sources*") == 3
    assert "_⚠️ 3 phrases non étayées par les sources : à vérifier._" in shown
    record = json.loads(json.dumps(answer_to_dict(answer), ensure_ascii=False))
    assert [s["status"] for s in record["sentences"]] == ["cited", "cited", "unsupported", "unsupported", "unsupported"]


def test_unsupported_sentences_can_be_hidden_but_stay_counted(demo_index, endpoint):
    endpoint.replies = [stream_reply([" ".join(PARAPHRASES + FABRICATIONS)])]

    answer = _assistant(demo_index, endpoint, hide=True).ask(QUESTION)

    assert "321 000" not in answer.text and "Occitanie" not in answer.text and "74 %" not in answer.text
    assert "312 k€" in answer.text
    assert answer.unsupported_sentences == 3
    assert [s.shown for s in answer.sentences] == [True, True, False, False, False]
    assert "(3 masquées par le réglage generation.hide_unsupported)" in answer_markdown(answer, 0)
