"""Benchmarks (bench/run.py) and the soak (bench/soak.py): docs/performance.md."""
