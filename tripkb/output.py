"""Plain output for scripts, kept apart from :mod:`render` so that a ``--json`` lookup loads no rich."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

#: What a terminal may act on and JSON leaves raw in strings (it escapes the C0 controls
#: itself): DEL, the C1 controls, the bidi controls and the Unicode line separators.
_UNSAFE_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def print_json(data: Any) -> None:
    """JSON on stdout, UTF-8 as is (no \\u escapes) but for characters a terminal would act on,
    for scripts; never NaN or Infinity, which are not JSON."""
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write(_UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
