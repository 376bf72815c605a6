"""Ingest: bringing documents and records into the knowledge base.

Documents copied into corpus/ and described, catalogue exports imported as records,
and text extraction spread over a Dask cluster.
"""
