"""Web-page noise removal and text normalisation (pure).

Pages saved from centre-de-ressources websites start and end with navigation
crumbs and toolbars ("Vous êtes ici", "Précédent", "Favoris", "Aller à la barre
d'outils"), cookie banners and share buttons; they would pollute both indexes.
Only short lines are candidates, so a paragraph that merely mentions a cookie survives.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.types import Block

_NOISE_LINE = re.compile(
    r"""^(?:
        vous\s+[êe]tes\s+ici\b.*
      | (?:page\s+)?(?:pr[ée]c[ée]dente?|suivante?)(?:\s*[|/-]\s*(?:pr[ée]c[ée]dente?|suivante?))?
      | favoris | imprimer | partager(?:\s+(?:sur|par)\b.*)? | envoyer\s+(?:à\s+un\s+ami|par\s+e-?mail)
      | (?:facebook|twitter|x|linkedin|mastodon|bluesky|e-?mail|whatsapp)
      | aller\s+(?:à|au)\s+(?:la\s+barre\s+d.outils|contenu|menu|la\s+recherche|pied\s+de\s+page).*
      | (?:retour\s+)?(?:en\s+)?haut\s+de\s+(?:la\s+)?page | retour(?:\s+à\s+la\s+liste)?
      | accueil(?:\s*[>›»/].*)? | menu | rechercher | recherche | fermer | connexion | s.inscrire
      | mentions\s+l[ée]gales.* | plan\s+du\s+site.* | accessibilit[ée].* | contactez-nous | newsletter
      | (?:tout\s+)?(?:accepter|refuser)(?:\s+(?:tout|les\s+cookies))? | personnaliser | j.accepte
      | lire\s+la\s+suite | en\s+savoir\s+plus | t[ée]l[ée]charger
      | page\s+\d+\s*(?:/|sur)\s*\d+
    )\s*[.!:…]*$""",
    re.IGNORECASE | re.VERBOSE,
)
_COOKIE_LINE = re.compile(r"\bcookies?\b|traceurs", re.IGNORECASE)
_SHORT = 80
_COOKIE_BANNER_MAX = 300


def normalize_text(text: str) -> str:
    """NFC, Unix newlines, no trailing spaces, no control characters, at most one blank line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    text = re.sub(r"[ \t\u00a0]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def is_noise_line(line: str) -> bool:
    """True for navigation, toolbar, share and cookie-banner lines."""
    stripped = line.strip(" \t•·|>»›-")
    if not stripped:
        return True
    if len(stripped) <= _SHORT and _NOISE_LINE.match(stripped):
        return True
    return len(stripped) <= _COOKIE_BANNER_MAX and bool(_COOKIE_LINE.search(stripped))


def clean_blocks(blocks: list[Block]) -> list[Block]:
    """Drop noise lines inside blocks, then empty blocks and immediate repeats."""
    cleaned: list[Block] = []
    for block in blocks:
        lines = [ln.rstrip() for ln in normalize_text(block.text).split("\n")]
        kept = "\n".join(ln for ln in lines if not is_noise_line(ln)).strip()
        if not kept:
            continue
        if cleaned and cleaned[-1].text == kept and cleaned[-1].page == block.page:
            continue
        cleaned.append(Block(text=kept, kind=block.kind, level=block.level, page=block.page))
    return cleaned
