"""Side-by-side benchmarks: `python -m bench` (see bench/README.md)."""
