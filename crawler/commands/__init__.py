"""The `newsarchive` sub-commands, one module per group; crawler/cli.py assembles them.

Each module exports `add_arguments(subparsers)` and `COMMANDS`, a map from command name to
`run(args, config) -> exit status`.
"""
