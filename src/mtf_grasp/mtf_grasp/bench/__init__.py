"""Benchmarks behind `mtf-grasp bench NAME`: one module per benchmark, each with
`add_arguments(parser)` and `run(args) -> dict` (the figures, printed as JSON with --json).
Modules whose names start with `_` are helpers, not benchmarks."""
