"""Typed errors whose messages are fit to show a user as they are.

The CLI prints ``Error: <message>`` for any :class:`TripkbError` and exits
non-zero; nothing below the CLI prints or exits.
"""

from __future__ import annotations


class TripkbError(Exception):
    """Base class: the message is for the user, one line, no traceback."""

    exit_code = 1


class UsageError(TripkbError):
    """The user asked for something that cannot be done as asked (exit 2)."""

    exit_code = 2


class QueryError(UsageError):
    """A search query that cannot be run: bad syntax, unknown field, no words."""


class MetadataError(TripkbError):
    """A sidecar that cannot be read or does not fit the schema.

    ``str()`` names the file, the key (when known) and what was expected.
    """

    def __init__(self, path: str, problem: str, key: str | None = None, line: int | None = None):
        self.path = path
        self.key = key
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class CatalogueError(TripkbError):
    """A catalogue file that cannot be read at all: its encoding, or no usable header."""


class DateError(TripkbError):
    """A date string that is not a recognisable Gregorian or ROC date."""


class ExtractError(TripkbError):
    """A document whose text cannot be extracted (not a PDF, damaged, encrypted…)."""


class KBIndexError(TripkbError):
    """The index is missing, locked, or from an incompatible version."""


class NotFoundError(TripkbError):
    """No document with the given id."""


class ClusterError(TripkbError):
    """The Dask cluster cannot be used: scheduler unreachable, no workers, workers unlike the client."""


class BundleError(TripkbError):
    """A bundle that cannot be imported as a whole: unreadable, unsafe, or without a valid manifest."""

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ToolMissing(TripkbError):
    """A program or package that reads a format is not installed; the message says what to install.

    The document is still kept and indexed from its metadata, unlike an
    :class:`ExtractError`, since installing the tool and reindexing mends it.
    """
