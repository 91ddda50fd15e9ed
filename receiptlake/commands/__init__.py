"""Subcommands of `receiptlake`; each module defines ``register(subparsers)``.

A subcommand's handler is set with ``parser.set_defaults(func=...)`` and returns the
process exit code. Heavy imports happen inside the handler so `--help` stays fast.
"""
