"""Queries: reading the index.

Search with literal matching, the selection of documents that exports share with
search, and statistics.
"""
