"""Benchmarks and the seeded generators they (and the bundled sample data) are built from."""
