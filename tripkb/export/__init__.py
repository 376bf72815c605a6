"""Exports: records and documents for other systems.

CSV, JSON Lines and Dublin Core records, OpenSearch bulk data, citations, and
bundles of the documents themselves for another knowledge base.
"""
