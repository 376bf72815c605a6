"""Metadata: what is known about a document, kept in its YAML sidecar.

Sidecars read and checked, fields read from cover pages and dates as reports write
them, the vocabularies that make the many names of one organisation or country one,
and the fields tripkb fills without ever overriding a person.
"""
