"""One module per CLI subcommand; each exposes ``add_to(subparsers)``."""
