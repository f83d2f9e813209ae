"""Benchmarks of the PDF pipeline: synthetic documents and the end-to-end timing run."""
