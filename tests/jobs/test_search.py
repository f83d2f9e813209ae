"""The running top k that search keeps while it scores a job's embeddings batch by batch."""

from __future__ import annotations

import numpy as np
import pytest

from app.jobs.search import RunningTopK


@pytest.mark.parametrize(("k", "batch"), [(1, 7), (10, 7), (10, 1000), (100, 3), (500, 64)])
def test_batches_give_the_same_ranking_as_scoring_everything_at_once(k, batch):
    rng = np.random.default_rng(k * batch)
    scores = rng.integers(0, 20, size=1000).astype(np.float32) / 20  # many ties, across batches too
    places = np.stack([np.arange(1000) // 100, np.arange(1000) % 100], axis=1)

    top = RunningTopK(k)
    for start in range(0, len(scores), batch):
        top.add(places[start : start + batch], scores[start : start + batch])

    everything = np.lexsort((np.arange(len(scores)), -scores))[:k]  # best first; ties in reading order
    expected = [((int(places[row][0]), int(places[row][1])), float(scores[row])) for row in everything]
    assert top.best() == expected


def test_fewer_rows_than_k_are_all_returned_best_first():
    top = RunningTopK(5)
    top.add(np.array([[0, 0], [0, 1]]), np.array([0.1, 0.9], dtype=np.float32))
    assert top.best() == [((0, 1), pytest.approx(0.9)), ((0, 0), pytest.approx(0.1))]
