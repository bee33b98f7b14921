"""The error type for bad user input: the CLI prints its message as one line and exits non-zero."""


class InputError(Exception):
    """Bad input from a file, a config field or a command-line value.

    The message must name the offending file (and line), field or value, e.g.
    ``InputError("data/pcd0101cpos.txt:7: expected 'x y', got 'abc'")``.
    """
