"""The /v1 API on a real server on a free loopback port: the official openai client (plain and streamed) reads the
answer and its citations; httpx checks the other routes, each role's refusals, JSON errors in French, the rate limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from ui_support import DEMO, free_port

from assistant.accounts import AccountStore, Role
from assistant.backends.embedder import CachedEmbedder
from assistant.factory import Services, build_services
from assistant.settings import ApiSettings, GenerationSettings, Settings, UISettings
from assistant.ui import build_ui, launch

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]
DOCUMENTS = [
    "a-fiche-ebe-saint-aurel.md",
    "a-fiche-plateforme-mobilite-valbrune.md",
    "a-fiche-garage-solidaire-lussan.md",
]
QUESTION = "Que fait l'Atelier des Forges ?"
PER_MINUTE = 40


@dataclass
class Served:
    url: str
    services: Services
    store: AccountStore
    keys: dict[str, str]

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[user]}"}, timeout=120)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, hashing_embedder: CachedEmbedder, embedding_cache_dir: Path
) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("api") / "data"
    settings = Settings(
        data_dir=data_dir,
        cache_dir=embedding_cache_dir,
        generation=GenerationSettings(answerer="offline"),
        ui=UISettings(max_upload_mb=1),
        api=ApiSettings(requests_per_minute=PER_MINUTE),
    )
    services = build_services(settings, embedder=hashing_embedder)
    report = services.indexer.index_paths([DEMO / name for name in DOCUMENTS])
    assert not report.failed, report.summary()
    store = AccountStore(settings.paths.accounts)
    keys = {}
    for name, role in (("lea", Role.LECTEUR), ("camille", Role.CONTRIBUTEUR), ("alice", Role.ADMINISTRATEUR)):
        store.add_user(name, f"{name}-secret", role)
        keys[name] = store.create_key(name, "tests")[1]
    keys["limited"] = store.create_key("lea", "rate limit")[1]
    running = launch(build_ui(services), services, port=free_port(), block=False)
    try:
        yield Served(running.url.rstrip("/"), services, store, keys)
    finally:
        running.close()
        services.close()


def test_openai_client_gets_a_cited_answer_plain_and_streamed(served: Served):
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=served.keys["lea"], max_retries=0)
    assert [m.id for m in client.models.list().data] == ["assistant-politique-ville"]

    completion = client.chat.completions.create(
        model="assistant-politique-ville", messages=[{"role": "user", "content": QUESTION}]
    )
    text = completion.choices[0].message.content
    citations = completion.model_extra["citations"]
    assert "Atelier des Forges" in text and not completion.model_extra["refused"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert markers and markers == {c["number"] for c in citations}
    for citation in citations:
        assert citation["title"] and citation["quote"] and citation["document_version"]
        assert citation["link"].startswith(served.url + "/documents/")
    opened = httpx.get(citations[0]["link"], headers={"Authorization": f"Bearer {served.keys['lea']}"})
    assert opened.status_code == 200 and "Atelier des Forges" in opened.text
    assert httpx.get(citations[0]["link"]).status_code == 401  # neither a key nor a session
    assert any("Forges" in c["quote"] for c in citations)

    chunks = list(
        client.chat.completions.create(
            model="assistant-politique-ville", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == citations


def test_a_follow_up_keeps_the_context_of_the_messages(served: Served):
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=served.keys["lea"], max_retries=0)
    first = client.chat.completions.create(model="x", messages=[{"role": "user", "content": QUESTION}])
    follow = client.chat.completions.create(
        model="x",
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": "Et quel est son budget ?"},
        ],
    )
    # alone, the question finds the garage's budget (268 500 euros); after the first exchange, the EBE's
    assert "1 260 000 euros" in follow.choices[0].message.content
    assert {c["title"] for c in follow.model_extra["citations"]} == {
        "L'Atelier des Forges : une entreprise à but d'emploi dans la cité du Haut-Fer"
    }


def test_errors_are_json_in_french(served: Served):
    with httpx.Client(base_url=served.url, timeout=30) as anonymous:
        missing = anonymous.get("/v1/models")
        assert missing.status_code == 401 and "Clé d'API manquante" in missing.json()["error"]["message"]
        wrong = anonymous.get("/v1/models", headers={"Authorization": "Bearer apv_000000000000_faux"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Clé d'API invalide ou révoquée."
    with served.client("lea") as lea:
        invalid = lea.post("/v1/chat/completions", json={"model": "x"})
        assert invalid.status_code == 400
        assert invalid.json()["error"]["message"] == "Requête invalide : champ « messages » manquant."
        assert lea.get("/v1/nulle-part").json()["error"]["message"] == "Adresse inconnue de l'API."
    schema = httpx.get(served.url + "/v1/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/models", "/v1/search", "/v1/documents", "/v1/notes"} <= set(schema["paths"])
    client = openai.OpenAI(base_url=served.url + "/v1", api_key="apv_000000000000_faux", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="Clé d'API invalide"):
        client.models.list()


def test_the_documentation_page_loads_nothing_from_outside(served: Served):
    page = httpx.get(served.url + "/v1/docs")
    assert page.status_code == 200 and "/v1/openapi.json" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        if asset.startswith("/"):
            assert httpx.get(served.url + asset).status_code == 200, asset


def test_each_role_is_refused_what_it_may_not_do(served: Served, tmp_path: Path):
    upload = tmp_path / "bilan-kervalon.md"
    upload.write_text(
        "# Bilan du jardin de Kervalon\n\nLe jardin partagé de Kervalon accueille trente familles le samedi.\n",
        encoding="utf-8",
    )
    with served.client("lea") as lea, served.client("camille") as camille, served.client("alice") as alice:
        assert len(lea.get("/v1/documents").json()["data"]) == len(DOCUMENTS)
        refused = lea.post("/v1/documents", files={"files": (upload.name, upload.read_bytes())})
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == "Votre rôle (lecteur) ne permet pas de ajouter des documents."
        added = camille.post("/v1/documents", files={"files": (upload.name, upload.read_bytes())})
        assert added.status_code == 200, added.text
        assert added.json()["documents"] == len(DOCUMENTS) + 1 and not added.json()["failed"]
        titles = {d["title"]: d["doc_id"] for d in camille.get("/v1/documents").json()["data"]}
        doc_id = titles["Bilan du jardin de Kervalon"]
        hits = lea.post("/v1/search", json={"query": "jardin partagé Kervalon", "k": 3}).json()["data"]
        assert hits[0]["doc_id"] == doc_id and "trente familles" in hits[0]["text"]
        for client in (lea, camille):
            assert client.delete(f"/v1/documents/{doc_id}").status_code == 403
        assert alice.delete(f"/v1/documents/{doc_id}").json()["deleted"] == doc_id
        assert alice.delete(f"/v1/documents/{doc_id}").status_code == 404
        assert doc_id not in {d["doc_id"] for d in lea.get("/v1/documents").json()["data"]}


def test_gradio_upload_route_refuses_a_reader_session(served: Served):
    files = {"files": ("note.md", b"# Note\n\nUn texte.\n", "text/markdown")}
    with httpx.Client(base_url=served.url, timeout=30) as lea, httpx.Client(base_url=served.url, timeout=30) as camille:
        for user, client in (("lea", lea), ("camille", camille)):
            client.post("/login", data={"username": user, "password": f"{user}-secret"}).raise_for_status()
        refused = lea.post("/gradio_api/upload", files=files)
        assert refused.status_code == 403 and "ne permet pas de ajouter des documents" in refused.text
        assert camille.post("/gradio_api/upload", files=files).status_code == 200
        assert lea.get("/").status_code == 200  # a reader still opens the interface


def test_precedents_and_notes(served: Served):
    with served.client("lea") as lea:
        found = lea.post("/v1/precedents", json={"need": "garage solidaire mobilité", "limit": 2}).json()["data"]
        assert found and "garage" in found[0]["card"]["title"].lower() and "source" not in found[0]["card"]
        assert found[0]["link"].startswith(served.url + "/documents/")
        note = lea.post("/v1/notes", json={"territory": "Lussan", "topic": "mobilité et emploi"})
        assert note.status_code == 200 and note.headers["content-type"].startswith("text/markdown")
        assert "Projet de note" in note.text
        docx = lea.post("/v1/notes", json={"territory": "Lussan", "topic": "mobilité", "format": "docx"})
        assert docx.status_code == 200 and docx.content[:2] == b"PK"
        bad = lea.post("/v1/precedents", json={"need": "garage", "period": "bientôt"})
        assert bad.status_code == 400 and "Période invalide" in bad.json()["error"]["message"]


def test_rate_limit_per_key_and_usage_counts(served: Served):
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {served.keys['limited']}"}) as c:
        statuses = [c.get("/v1/models").status_code for _ in range(PER_MINUTE + 1)]
        assert statuses[:PER_MINUTE] == [200] * PER_MINUTE
        last = c.get("/v1/models")
        assert last.status_code == 429 and int(last.headers["Retry-After"]) >= 1
        assert f"{PER_MINUTE} par minute" in last.json()["error"]["message"]
    with served.client("alice") as alice:
        assert alice.get("/v1/models").status_code == 200  # another key is not limited
    usage = {(u.user, u.key_id): u for u in served.store.usage()}
    lea_key = served.keys["lea"].split("_")[1]
    assert usage[("lea", lea_key)].questions >= 3
