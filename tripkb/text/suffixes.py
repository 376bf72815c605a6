"""The suffixes of the documents tripkb reads, apart from the readers, which load their libraries."""

WORD_SUFFIXES = (".docx", ".doc")
#: Every suffix :func:`tripkb.text.extract.read` can read (``kb.DOCUMENT_SUFFIXES`` is this).
SUFFIXES = (".pdf",) + WORD_SUFFIXES
