"""Command line: each subcommand is one library call plus formatting (DESIGN.md practice 11)."""
