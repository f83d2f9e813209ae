"""all-MiniLM-L6-v2 embeddings (int8 ONNX) and the extractive summary built on them."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from app.analysis import DocumentInput, SentenceInput, analyze_chunk_sentences
from app.analysis.embeddings import DIMENSIONS, PADDING_RATIO, _similar_length_batches, embed, encoder
from app.analysis.summary import SummaryAnalyzer, central_sentences

# Vectors computed once with sentence-transformers' fp32 model (see "made_with").
REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text())


def test_vectors_are_384_dimensional_unit_float32():
    vectors = embed(["A short sentence.", "", "word " * 1000])  # empty and over-long texts too
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("reference", REFERENCE["vectors"], ids=lambda r: r["text"][:30])
def test_vectors_agree_with_sentence_transformers(reference):
    vector = embed([reference["text"]])[0]
    assert float(vector @ np.array(reference["vector"])) >= 0.99


def test_a_paraphrase_is_closer_than_unrelated_sentences():
    anchor, paraphrase, *unrelated = embed(
        [
            "The tenant must pay the rent at the start of every month.",
            "Rent is due from the renter on the first day of each month.",
            "Photosynthesis turns sunlight into chemical energy.",
            "The match ended in a draw after extra time.",
            "Monthly payments of the loan start in January.",
        ]
    )
    assert anchor @ paraphrase > max(anchor @ other for other in unrelated) + 0.1


def test_batching_by_length_keeps_each_vector_with_its_sentence():
    texts = [("word " * n).strip() + f" {n}." for n in (3, 40, 1, 17, 60, 2, 9)]
    one_batch = encoder().encode(texts, batch_size=64)
    small_batches = encoder().encode(texts, batch_size=2)
    alone = np.vstack([encoder().encode([text]) for text in texts])
    np.testing.assert_allclose(small_batches, one_batch, atol=1e-4)
    np.testing.assert_allclose(alone, one_batch, atol=1e-4)


def test_the_model_is_loaded_once_per_process_even_from_many_threads():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(encoder())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and all(found is seen[0] for found in seen)


def test_the_analyzer_fills_the_embedding_column_with_float32_bytes():
    sentences = [
        SentenceInput("Nested loops are hard to trace.", 1),
        SentenceInput("Rent is due monthly.", 2),
    ]
    analysed = analyze_chunk_sentences(["embeddings"], sentences)
    assert analysed.failures == {} and analysed.chunk == {"embeddings": {"sentences": 2}}
    stored = [np.frombuffer(value, dtype=np.float32) for value in analysed.columns["embedding"]]
    assert [len(vector) for vector in stored] == [DIMENSIONS, DIMENSIONS]
    np.testing.assert_allclose(np.vstack(stored), embed([s.text for s in sentences]), atol=1e-6)


TOPIC = [
    "The lease requires the tenant to pay rent monthly.",
    "Rent payments are due on the first day of every month.",
    "Late rent incurs a fee of five percent.",
    "The landlord may raise the rent once a year.",
    "Tenants pay the rent by bank transfer.",
]


def test_the_summary_picks_central_sentences_in_document_order():
    texts = ["Introduction", TOPIC[0], "Volcanoes erupt when magma rises.", *TOPIC[1:]]
    picked = central_sentences(texts, embed(texts), 3)
    indexes = [index for index, _ in picked]
    assert indexes == sorted(indexes)
    assert {0, 2}.isdisjoint(indexes)  # neither the heading nor the off-topic sentence
    assert all(0 < score <= 1 for _, score in picked)


def test_the_summary_reports_text_page_score_and_place():
    texts = ["Volcanoes erupt when magma rises.", *TOPIC, "The fee is due monthly too."]
    sentences = [
        {"chunk_index": i // 3, "position": i % 3, "page": i // 2 + 1, "text": text}
        for i, text in enumerate(texts)
    ]
    summary = SummaryAnalyzer().summarize(
        DocumentInput(chunks=[], load_embeddings=lambda: (embed(texts), sentences))
    )
    assert len(summary) == 5 and summary[0]["text"] != texts[0]
    assert [set(item) for item in summary] == [{"chunk_index", "position", "page", "text", "score"}] * 5
    assert [item["text"] for item in summary] == [t for t in texts if t in {item["text"] for item in summary}]


def test_an_empty_document_has_an_empty_summary():
    empty = DocumentInput(chunks=[], load_embeddings=lambda: (np.zeros((0, 0), np.float32), []))
    assert SummaryAnalyzer().summarize(empty) == []


def test_one_long_sentence_does_not_pad_a_batch_of_short_ones():
    lengths = [256, 20, 18, 18, 17, 12, 200]
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches = _similar_length_batches(order, lengths, batch_size=3)
    assert sorted(row for batch in batches for row in batch) == list(range(len(lengths)))
    assert all(len(batch) <= 3 for batch in batches)
    for batch in batches:
        assert min(lengths[row] for row in batch) >= PADDING_RATIO * lengths[batch[0]], batch
    assert batches[0] == [0, 6]  # the two long ones run together, without the short ones
