"""OCR and duplicate-detection figures on sets this module builds itself.

Usage: python -m evals.corpus_quality [--pages N]

OCR: the demo corpus's scans (``format: scan`` in corpus/demo-src) and N generated pages of demo text
(typeset, rasterised at 150 dpi with speckles, only the picture kept) are read back through the PDF
loader; prints pages per minute on this machine and the character accuracy against the source text
(1 - edit distance / length, spaces normalised).

Duplicates: pairs built from the demo corpus sources: copies (the same text as Markdown, as PDF
text, as DOCX text, under another name, with web-page noise added) and merely related documents
(pairs of demo documents of one genre and one template, and updated versions); prints precision and
recall of :class:`ingest.duplicates.CopyFinder` at its copy threshold.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import random
import tempfile
import time
from pathlib import Path

from ingest.duplicates import CopyFinder, Known, signature
from ingest.loaders import load_file
from ingest.loaders.limits import ReadBudget
from ingest.loaders.ocr import character_accuracy, find_ocr_engine

REPO = Path(__file__).resolve().parent.parent
_FOOTER_WORDS = ("Page",)


def _build_demo():
    spec = importlib.util.spec_from_file_location("build_demo", REPO / "corpus" / "build_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source_text(build, blocks) -> str:
    parts = []
    for kind, text in blocks:
        if kind == "table":
            parts += [" ".join(row) for row in build.table_cells(text)]
        elif kind != "break":
            parts.append(build.pdf_text(text))
    return " ".join(parts)


def _ocr_text(path: Path, budget: ReadBudget) -> tuple[str, int]:
    loaded = load_file(path.read_bytes(), path, budget)
    lines = [b.text for b in loaded.blocks if not b.text.startswith(_FOOTER_WORDS)]
    return " ".join(lines), int(loaded.metadata.get("pages", 0))


def measure_ocr(extra_pages: int) -> None:
    build = _build_demo()
    choice = find_ocr_engine()
    if choice.reader is None:
        print(f"OCR indisponible : {choice.unavailable}")
        return
    cases: list[tuple[str, Path, str]] = []
    workdir = Path(tempfile.mkdtemp(prefix="ocr-quality-"))
    for source in sorted((REPO / "corpus" / "demo-src").glob("*.md")):
        meta, blocks = build.parse_source(source)
        formats = meta["format"] if isinstance(meta["format"], list) else [meta["format"]]
        if "scan" in formats or len(cases) < extra_pages + 2:
            out = workdir / f"{source.stem}.pdf"
            build.build_scan(meta, blocks, out)
            cases.append((source.stem, out, _source_text(build, blocks)))
    total_pages = 0
    total_seconds = 0.0
    weighted = 0.0
    for name, path, expected in cases:
        started = time.perf_counter()
        text, pages = _ocr_text(path, ReadBudget(ocr=choice))
        seconds = time.perf_counter() - started
        accuracy = character_accuracy(expected, text)
        total_pages += pages
        total_seconds += seconds
        weighted += accuracy * len(expected)
        print(f"{name}: {pages} p., {seconds:.1f} s, précision caractères {accuracy:.3f}")
    characters = sum(len(expected) for _, _, expected in cases)
    print(
        f"OCR : {total_pages} pages en {total_seconds:.0f} s = {60 * total_pages / total_seconds:.1f} pages/min ; "
        f"précision caractères {weighted / characters:.3f} (pondérée par la longueur)"
    )


def _loaded_text(path: Path) -> str:
    return "\n".join(block.text for block in load_file(path.read_bytes(), path).blocks)


def _noisy_web_copy(text: str) -> str:
    return (
        "Accueil > Ressources > Études\nVous êtes ici : publications\n"
        + text
        + "\nPartager sur Facebook\nMentions légales\nNewsletter : inscrivez-vous pour recevoir nos publications"
    )


def measure_duplicates() -> None:
    build = _build_demo()
    texts: dict[str, tuple[str, str, str]] = {}  # name -> (text, title, date)
    for path in sorted((REPO / "corpus" / "demo").glob("*.md")):
        if path.name == "README.md":
            continue
        raw = path.read_text("utf-8")
        front, body = raw.split("---", 2)[1:]
        meta = build.yaml.safe_load(front)
        texts[path.stem] = (body, meta["title"], str(meta["date"]))
    for source in sorted((REPO / "corpus" / "demo-src").glob("*.md")):
        meta, blocks = build.parse_source(source)
        texts[source.stem] = (_source_text(build, blocks), meta["title"], str(meta["date"]))
    rng = random.Random(3)
    pairs: list[tuple[str, str, str, str, bool]] = []  # (name a, text a, name b, text b, is copy)
    for name, (text, _title, _date) in texts.items():
        variants = {
            "pdf-text": build.pdf_text(text)
            if all(ord(c) < 256 or c in build.PDF_REPLACEMENTS for c in text)
            else text,
            "web": _noisy_web_copy(text),
            "renamed": text,
            "truncated-footer": text + "\nPage 1 / 2\nDocument imprimé le 12/03/2024",
        }
        for kind, variant in variants.items():
            pairs.append((name, text, f"{name}~{kind}", variant, True))
    names = sorted(texts)
    related = [(a, b) for a, b in itertools.combinations(names, 2) if a[:7] == b[:7]]  # same genre and series
    for a, b in rng.sample(related, min(len(related), 200)):
        pairs.append((a, texts[a][0], b, texts[b][0], False))
    # the demo's real files: one guide as PDF and DOCX (a copy), a study and its update (not a copy)
    demo = REPO / "corpus" / "demo"
    guide = [_loaded_text(demo / f"c-guide-facilitateur-clauses-marvejan.{ext}") for ext in ("pdf", "docx")]
    pairs.append(("guide.pdf", guide[0], "guide.docx", guide[1], True))
    study = [_loaded_text(demo / f"c-etude-vacance-commerciale-tilleuls-{year}.md") for year in (2019, 2023)]
    pairs.append(("etude-2019", study[0], "etude-2023", study[1], False))
    true_positive = false_positive = false_negative = 0
    for name_a, text_a, _name_b, text_b, is_copy in pairs:
        finder = CopyFinder()
        finder.add(Known(name_a, signature(text_a), "", ""))
        match = finder.match(signature(text_b), title="", date="")
        found = match is not None and match.kind == "copy"
        true_positive += found and is_copy
        false_positive += found and not is_copy
        false_negative += is_copy and not found
    copies = sum(1 for *_, is_copy in pairs if is_copy)
    precision = true_positive / max(true_positive + false_positive, 1)
    recall = true_positive / max(copies, 1)
    print(
        f"Doublons : {len(pairs)} paires ({copies} copies, {len(pairs) - copies} documents apparentés) ; "
        f"précision {precision:.3f}, rappel {recall:.3f} (faux positifs {false_positive}, manqués {false_negative})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6, help="demo documents rendered as scans besides the scans")
    args = parser.parse_args()
    measure_duplicates()
    measure_ocr(args.pages)


if __name__ == "__main__":
    main()
