"""Article dates as day numbers (days since 1970-01-01), the form the build stores and recency compares."""

from __future__ import annotations

import re
from datetime import date

UNKNOWN_DAY = -1
_EPOCH = date(1970, 1, 1).toordinal()
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def article_day(value: str) -> int:
    """'2026-11-03' or '2015-07-21 02:16:27' -> days since 1970-01-01; -1 for anything else."""
    match = _DATE_RE.match((value or "").strip())
    if not match:
        return UNKNOWN_DAY
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).toordinal() - _EPOCH
    except ValueError:
        return UNKNOWN_DAY
