"""The index: the Whoosh index derived from corpus/, and keeping it in step with it.

Schema and analysis (jieba words and character bigrams), the postings formats, the
sync that re-reads only what changed, the writers, and the integrity check.
whoosh_internals lists every private part of Whoosh and jieba that tripkb touches.
"""
