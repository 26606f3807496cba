"""Benchmarks of twin. Never part of the test suite; see docs/BENCHMARKS.md."""
