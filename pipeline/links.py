"""Deep links into the dashboard: ``{dashboard.url}/?iceberg=ID&run=RUN_ID``.

Alerts, the e-mail digest, reports, problem records and the look-up API link an iceberg
to its dashboard page with these; without ``dashboard.url`` there is no link (never a
guessed address).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

# Characters a link keeps as they are; anything else (spaces, quotes, brackets, parentheses,
# angle brackets, backticks) is percent-encoded, so the link is one token in Markdown, wiki
# markup, HTML attributes, CSV and chat messages alike.
_SAFE = ":/?#@!$&+,;=%-._~"


def iceberg_url(base: str, iceberg_id: str, run_id: str | None = None) -> str | None:
    """The dashboard page of ``iceberg_id`` in run ``run_id``, or None when ``base`` is ""."""
    if not base:
        return None
    query = {"iceberg": iceberg_id, **({"run": run_id} if run_id else {})}
    return f"{quote(base.strip().rstrip('/'), safe=_SAFE)}/?{urlencode(query)}"
