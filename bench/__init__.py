"""Benchmarks (issue 8): sync throughput, webhook load, freshness, availability. See docs/BENCHMARKS.md."""
