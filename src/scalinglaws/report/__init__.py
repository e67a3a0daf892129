"""The edges that make documents: ``reproduce`` output folders and HTML reports."""
