"""Subcommands of `mtf-grasp`, one module each; discovered by `mtf_grasp.cli`."""
