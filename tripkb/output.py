"""Plain output for scripts, kept apart from :mod:`render` so that a ``--json`` lookup loads no rich."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    """JSON on stdout, UTF-8 as is (no \\u escapes), for scripts."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
