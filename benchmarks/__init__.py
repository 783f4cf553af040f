"""The project's benchmarks (DESIGN.md section 6): python -m benchmarks.run; see docs/benchmarks.md."""
