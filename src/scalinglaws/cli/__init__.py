"""Command line: each subcommand is one library call plus formatting."""
