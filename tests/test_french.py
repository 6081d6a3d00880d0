from assistant.retrieval.french import analyze, fold_accents
from assistant.retrieval.lexical import KeywordIndex


def test_fold_accents():
    assert fold_accents("Économie SOLIDAIRE, cœur de quartier") == "economie solidaire, coeur de quartier"


def test_accents_plural_and_elision_give_the_same_terms():
    assert analyze("Le développement économique des quartiers prioritaires") == analyze(
        "developpements economiques du quartier prioritaire"
    )
    assert analyze("l’insertion") == analyze("insertion") == analyze("d'insertion")


def test_stopwords_are_dropped():
    assert analyze("de la et les pour dans une") == []


def test_keyword_index_finds_the_same_chunk_with_and_without_accents(tmp_path):
    index = KeywordIndex.build(
        ["c1", "c2", "c3"],
        [
            "La plateforme mobilité accompagne les demandeurs d'emploi vers le permis.",
            "Les commerces de proximité en pied d'immeuble.",
            "Une entreprise à but d'emploi dans un territoire zéro chômeur.",
        ],
        fingerprint="f",
    )
    for query in ("plateforme mobilité", "plateformes mobilite", "PLATEFORME DE MOBILITÉ"):
        assert index.search(query)[0][0] == "c1"
    assert index.search("commerce")[0][0] == "c2"
    assert index.search("chomeurs")[0][0] == "c3"
    assert index.search("inconnu xyz") == []
    index.save(tmp_path / "kw")
    reloaded = KeywordIndex.load(tmp_path / "kw")
    assert reloaded is not None and reloaded.fingerprint == "f"
    assert reloaded.search("entreprises a but d emploi")[0][0] == "c3"


def test_unreadable_keyword_index_is_reported_as_missing(tmp_path):
    (tmp_path / "kw").mkdir()
    (tmp_path / "kw" / "keyword-meta.json").write_text("{broken", encoding="utf-8")
    assert KeywordIndex.load(tmp_path / "kw") is None


def test_feminine_participles_meet_the_verb_and_the_noun():
    # folded "financée" is "financee", which the stemmer alone leaves as "finance" (not "financ")
    assert analyze("financée financées financé finance financer") == ["financ"] * 5
    assert analyze("l'action est lancée") == analyze("action lancer") == analyze("action lancee")


def test_an_index_analysed_by_another_version_is_rebuilt(tmp_path):
    import json

    KeywordIndex.build(["c1"], ["Une navette financée par la Région."], fingerprint="f").save(tmp_path / "kw")
    meta_path = tmp_path / "kw" / "keyword-meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert KeywordIndex.load(tmp_path / "kw") is not None
    meta.pop("analyzer")  # an index written before analyser versions existed
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert KeywordIndex.load(tmp_path / "kw") is None
