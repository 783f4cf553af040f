"""The project's benchmarks (docs/protocol.md, section 12): python -m benchmarks.run; see docs/benchmarks.md."""
