"""Side-by-side benchmarks against peer libraries: ``python -m benchmarks.run`` (``make bench``)."""
