from assistant.types import Block
from ingest.cleaning import clean_blocks, is_noise_line, normalize_text


def test_navigation_lines_are_noise():
    for line in [
        "Vous êtes ici",
        "Vous êtes ici : Accueil > Ressources",
        "Précédent",
        "Favoris",
        "Aller à la barre d’outils",
        "Partager sur LinkedIn",
        "Imprimer",
        "Ce site utilise des cookies pour mesurer l'audience.",
        "Tout accepter",
        "Mentions légales",
    ]:
        assert is_noise_line(line), line


def test_content_lines_are_kept():
    for line in [
        "Le pilier « développement économique et emploi » fait partie des contrats de ville.",
        "Précédent cycle de qualification : quatre territoires en 2013-2014.",
        "Partenaires",
        "Accueil des entreprises dans les quartiers : une pépinière ouvre en 2019 avec vingt bureaux.",
    ]:
        assert not is_noise_line(line), line


def test_clean_blocks_drops_noise_and_repeats():
    blocks = [
        Block("Vous êtes ici\n\nPrécédent\nFavoris"),
        Block("Titre", kind="heading", level=1),
        Block("Un paragraphe utile.\nPartager sur Facebook"),
        Block("Un paragraphe utile."),
        Block("Aller à la barre d'outils"),
    ]
    assert clean_blocks(blocks) == [Block("Titre", kind="heading", level=1), Block("Un paragraphe utile.")]


def test_normalize_text():
    assert normalize_text("a  \r\nb\u0007\n\n\n\nc ") == "a\nb\n\nc"
