"""tripkb: a knowledge base of official trip reports with Chinese full-text search."""

__version__ = "0.1.0"
