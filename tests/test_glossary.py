"""Glossary: expansion of acronyms and spelled-out forms, whole-word and accent-blind matching, YAML loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.glossary import Glossary, GlossaryEntry, load_glossary, normalise

REAL_GLOSSARY = Path(__file__).resolve().parent.parent / "assistant" / "glossary.yaml"

QPV = GlossaryEntry(
    "QPV",
    "quartier prioritaire de la politique de la ville",
    "Quartier défini par la concentration de bas revenus.",
    ("quartiers prioritaires", "qpv"),
)
ESS = GlossaryEntry("ESS", "économie sociale et solidaire", "Associations, coopératives, mutuelles…")
EI = GlossaryEntry("EI", "entreprise d'insertion", "Structure de l'insertion par l'activité économique.")
AI = GlossaryEntry("AI", "association intermédiaire", "Structure qui met des salariés à disposition.")
PRE = GlossaryEntry("PRE", "programme de réussite éducative", "Parcours individualisés pour les enfants.")
ANRU = GlossaryEntry("ANRU", "Agence nationale pour la rénovation urbaine", "Agence de l'État.")
IRIS = GlossaryEntry("IRIS", "îlots regroupés pour l'information statistique", "Découpage de l'INSEE.")
ZFU = GlossaryEntry("ZFU", "zone franche urbaine", "Zone d'exonérations fiscales.")
ZFU_TE = GlossaryEntry("ZFU-TE", "zone franche urbaine – territoire entrepreneur", "ZFU depuis 2015.")
CITE = GlossaryEntry("cité de l'emploi", "dispositif des cités de l'emploi", "Coordination des acteurs de l'emploi.")
FRANCE_TRAVAIL = GlossaryEntry("France Travail", "opérateur public de l'emploi", "Ex-Pôle emploi.", ("Pôle emploi",))
FSE = GlossaryEntry("FSE", "Fonds social européen", "Fonds structurel européen.", ("FSE+",))
COEUR_DE_VILLE = GlossaryEntry(
    "Action cœur de ville", "programme de revitalisation des villes moyennes", "Depuis 2018."
)


@pytest.fixture
def glossary() -> Glossary:
    return Glossary([QPV, ESS, EI, AI, PRE, ANRU, IRIS, ZFU, ZFU_TE, CITE, FRANCE_TRAVAIL, FSE, COEUR_DE_VILLE])


def test_acronym_brings_its_expansion(glossary: Glossary) -> None:
    assert glossary.expand_query("aides aux commerces en QPV") == (
        "aides aux commerces en QPV quartier prioritaire de la politique de la ville"
    )


def test_spelled_out_form_brings_the_acronym(glossary: Glossary) -> None:
    assert glossary.expand_query("emploi dans les quartiers prioritaires") == (
        "emploi dans les quartiers prioritaires QPV"
    )
    assert glossary.expand_query("le rôle de l'économie sociale et solidaire") == (
        "le rôle de l'économie sociale et solidaire ESS"
    )


@pytest.mark.parametrize(
    "query",
    [
        "entreprises de l'ESSONNE",
        "un processus de recrutement",
        "PEINTURE des halls",
        "j'ai une question",
        "ei et ai en minuscules",
        "un pré-requis",
        "le ırıs dotless",
    ],
)
def test_nothing_inside_other_words_nor_short_acronyms_in_lower_case(glossary: Glossary, query: str) -> None:
    assert glossary.expand_query(query) == query
    assert glossary.find_terms(query) == []


def test_lower_case_short_acronym_matches_only_when_listed(glossary: Glossary) -> None:
    assert (
        glossary.expand_query("commerces en qpv") == "commerces en qpv quartier prioritaire de la politique de la ville"
    )


def test_longer_acronyms_match_in_any_case(glossary: Glossary) -> None:
    assert glossary.expand_query("convention anru") == "convention anru Agence nationale pour la rénovation urbaine"


def test_accents_and_ligatures_are_ignored(glossary: Glossary) -> None:
    assert (
        glossary.expand_query("cite de l'emploi a Lyon") == "cite de l'emploi a Lyon dispositif des cités de l'emploi"
    )
    assert glossary.expand_query("economie sociale et solidaire") == "economie sociale et solidaire ESS"
    assert glossary.find_terms("action coeur de ville") == [COEUR_DE_VILLE]


def test_apostrophe_styles_are_equivalent(glossary: Glossary) -> None:
    expected = [CITE, EI]
    assert glossary.find_terms("la cité de l’emploi et l’entreprise d’insertion") == expected
    assert glossary.find_terms("la cité de l'emploi et l'entreprise d'insertion") == expected


def test_hyphenated_acronym_is_not_read_as_its_prefix(glossary: Glossary) -> None:
    assert (
        glossary.expand_query("exonérations ZFU-TE")
        == "exonérations ZFU-TE zone franche urbaine – territoire entrepreneur"
    )
    assert glossary.find_terms("ZFU TE puis ZFU") == [ZFU_TE, ZFU]


def test_no_duplicate_when_both_forms_are_present(glossary: Glossary) -> None:
    query = "QPV ou quartier prioritaire de la politique de la ville"
    assert glossary.expand_query(query) == query
    assert (
        glossary.expand_query("QPV, encore QPV") == "QPV, encore QPV quartier prioritaire de la politique de la ville"
    )


def test_multiple_acronyms_keep_their_order(glossary: Glossary) -> None:
    assert glossary.expand_query("ESS et EI en QPV") == (
        "ESS et EI en QPV économie sociale et solidaire entreprise d'insertion"
        " quartier prioritaire de la politique de la ville"
    )


def test_synonym_brings_the_term(glossary: Glossary) -> None:
    assert glossary.expand_query("inscription à Pôle emploi") == "inscription à Pôle emploi France Travail"
    assert glossary.expand_query("crédits FSE+") == "crédits FSE+ Fonds social européen"  # "FSE" is already written


def test_synonym_containing_the_acronym_brings_the_expansion() -> None:
    tfpb = GlossaryEntry("TFPB", "taxe foncière sur les propriétés bâties", "Impôt local.", ("abattement de TFPB",))
    assert Glossary([tfpb]).expand_query("l'abattement de TFPB") == (
        "l'abattement de TFPB taxe foncière sur les propriétés bâties"
    )


def test_lookup_by_any_spelling(glossary: Glossary) -> None:
    assert glossary.lookup("zfu-te") is ZFU_TE
    assert glossary.lookup("pole emploi") is FRANCE_TRAVAIL
    assert glossary.lookup("Cite de l’emploi") is CITE
    assert glossary.lookup("inconnu") is None


def test_find_terms_in_order_of_first_mention(glossary: Glossary) -> None:
    text = "Le PRE et l'ANRU ; puis le PRE encore et France Travail."
    assert glossary.find_terms(text) == [PRE, ANRU, FRANCE_TRAVAIL]


def test_shared_spelling_between_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="France Travail"):
        Glossary([FRANCE_TRAVAIL, GlossaryEntry("ANPE", "agence", "…", ("pole emploi",))])


def test_normalise() -> None:
    assert normalise("L’Économie  sociale – cœur-de-ville") == "L Economie sociale coeur de ville"


def test_malformed_entry_names_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "glossaire.yaml"
    path.write_text("- term: QPV\n  expansion: quartier prioritaire\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossaire\.yaml, entrée n°1 \(QPV\).*definition"):
        load_glossary(path)


def test_invalid_yaml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "glossaire.yaml"
    path.write_text("- term: [QPV\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossaire\.yaml"):
        load_glossary(path)


REQUIRED_TERMS = (
    """QPV NPNRU PNRU ANRU ANCT CGET ESS TZCLD EBE IAE PLIE GTEC SRDEII SRADDET CRTE ZFU ZFU-TE TFPB CRPV DSU
EPARECA CitésLab CDC Bpifrance BPI CCI CMA SIAE ACI EI ETTI AI GEIQ CAE SCIC PTCE PRE GUP GUSP NQT FSE FSE+ FEDER ITI EPCI
EPT DDETS ZRU ZUS DPV FIPD QVA PIC PAQTE RSA BRSA DEFM SIRENE IRIS NPRU PRU ADIE PVD ORT RSE""".split()
    + [
        "conseil citoyen",
        "contrat de ville",
        "Engagements Quartiers 2030",
        "Quartiers 2030",
        "Banque des Territoires",
        "France Travail",
        "Pôle emploi",
        "Mission locale",
        "clause sociale d'insertion",
        "emplois francs",
        "cité de l'emploi",
        "cité éducative",
        "adultes-relais",
        "préfet délégué pour l'égalité des chances",
        "délégué du préfet",
        "politique de la ville",
        "pilier développement économique et emploi",
        "quartiers de veille active",
        "marketing territorial",
        "droit de préemption commercial",
        "foncière commerce",
        "immobilier d'entreprise",
        "pépinière d'entreprises",
        "couveuse",
        "incubateur",
        "microcrédit",
        "France Active",
        "Initiative France",
        "Réseau Entreprendre",
        "Action cœur de ville",
        "Petites villes de demain",
        "mécénat",
        "tiers-lieu",
        "fabrique de territoire",
        "plateforme mobilité",
        "garage solidaire",
        "développement social urbain",
        "dotation de solidarité urbaine",
        "centre de ressources politique de la ville",
    ]
)


def test_real_glossary_is_complete_and_well_formed() -> None:
    glossary = load_glossary(REAL_GLOSSARY)

    assert len(glossary) >= 100
    assert [term for term in REQUIRED_TERMS if glossary.lookup(term) is None] == []
    terms = [normalise(entry.term).casefold() for entry in glossary.entries]
    assert len(terms) == len(set(terms))
    assert terms == sorted(terms)
    assert all(entry.expansion and entry.definition for entry in glossary.entries)
    assert glossary.expand_query("exonérations en ZFU-TE") == (
        f"exonérations en ZFU-TE {glossary.lookup('ZFU-TE').expansion}"
    )
