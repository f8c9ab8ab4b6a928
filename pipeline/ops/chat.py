"""Alerts as people read them where they are: a Slack Block Kit message and a Microsoft
Teams Adaptive Card, each within its service's documented limits.

``alert_cards(changes, run, dashboard_url)`` gathers what each alert shows — name, id,
tickets and customers, trend, the top where-else line, the dashboard link — from the
run's changes and its store (read only). ``slack_message`` and ``teams_message`` lay them
out; when there are more alerts than fit, the last line says "and N more".

Slack (api.slack.com, Block Kit and incoming webhooks): at most 50 blocks a message, a
header's plain text at most 150 characters, a section's text at most 3,000, a button's text
75 and its URL 3,000; ``text`` is the notification's fallback. Text is mrkdwn with ``&``,
``<`` and ``>`` escaped, so nothing in a name can mention a channel or forge a link.

Teams (incoming webhooks and Workflows, Adaptive Cards 1.4): one ``message`` with one
Adaptive Card attachment, at most 28 KB posted; the card is filled while it stays under
``TEAMS_BUDGET`` bytes. Teams renders a little Markdown in card text, so link and bold
syntax in names is broken up with a zero-width space (shown as written, never a link).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pipeline.links import iceberg_url

SLACK_MAX_BLOCKS = 50
SLACK_HEADER_CHARS = 150
SLACK_SECTION_CHARS = 3000
SLACK_BUTTON_CHARS = 75
SLACK_URL_CHARS = 3000
SLACK_MAX_ALERTS = 20          # 1 header + 2 blocks per alert + the "and N more" context ≤ 50
TEAMS_LIMIT = 28 * 1024        # bytes Teams accepts in one webhook post
TEAMS_BUDGET = 24 * 1024       # what the card may grow to, leaving room for the envelope
NAME_CHARS = 120
WHERE_CHARS = 300
RULE_TEXT = {"new_iceberg": "new iceberg", "growth": "growing fast", "merged": "merged", "split": "split"}


@dataclass(frozen=True)
class AlertCard:
    """What one alert shows, as plain text (each format escapes it its own way)."""

    rule: str
    iceberg_id: str
    name: str
    message: str
    size: int | None
    n_customers: int | None
    trend: str | None
    where: str | None          # the top where-else line, e.g. "region=US (89% vs 18%, lift 5.0, q=5e-25)"
    url: str | None            # its dashboard page; None without dashboard.url

    @property
    def who(self) -> str:
        if self.size is None:
            return ""
        customers = f" from {self.n_customers:,} customers" if self.n_customers is not None else ""
        return f"{self.size:,} tickets{customers}"


def alert_cards(changes: dict, run=None, dashboard_url: str = "") -> list[AlertCard]:
    """One ``AlertCard`` per alert of ``changes`` (changes.json's dict); ``run`` (a
    ``store.Run``) gives the curated names, figures and the top evidence when given."""
    from pipeline.reports import lines
    from pipeline.schemas import IcebergCols as I
    from pipeline.store.curation import CurationCols as CU

    rows, evidence = {}, None
    if run is not None:
        icebergs = run.curated_icebergs()
        rows = {r[I.iceberg_id]: r for r in icebergs.to_dict(orient="records")}
        evidence = run.evidence(n=1)
    cards = []
    for alert in changes.get("alerts", []):
        iceberg_id = alert["iceberg_id"]
        row = rows.get(iceberg_id, {})
        name = row.get(CU.name) if lines.present(row.get(CU.name)) else (row.get(I.label) or alert.get("label"))
        figures = alert.get("figures", {})
        size = row.get(I.size, figures.get("size"))
        customers = row.get(I.n_customers, figures.get("n_customers"))
        where = None
        if evidence is not None:
            top = evidence[evidence["iceberg_id"] == iceberg_id]
            if len(top):
                where = lines.attribute_text(top.iloc[0].to_dict())
        cards.append(AlertCard(
            rule=alert["rule"], iceberg_id=iceberg_id, name=str(name or ""), message=alert.get("message", ""),
            size=int(size) if lines.present(size) else None,
            n_customers=int(customers) if lines.present(customers) else None,
            trend=str(row[I.trend]) if lines.present(row.get(I.trend)) else None,
            where=where, url=iceberg_url(dashboard_url, iceberg_id, changes.get("run_id"))))
    return cards


def _cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _title(cards: list[AlertCard], run_id: str) -> str:
    return f"Iceberg: {len(cards)} alert{'s' if len(cards) != 1 else ''} in run {run_id}"


def slack_escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _facts(card: AlertCard) -> list[str]:
    facts = [RULE_TEXT.get(card.rule, card.rule)]
    if card.who:
        facts.append(card.who)
    if card.trend:
        facts.append(f"trend {card.trend}")
    return facts


def slack_message(cards: list[AlertCard], run_id: str, *, more_hint: str = "") -> dict:
    """A Slack incoming-webhook message: a header, one section per alert (with a button to
    its dashboard page when there is one), a context line "and N more"."""
    title = _title(cards, run_id)
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "emoji": False,
                                                      "text": _cut(title, SLACK_HEADER_CHARS)}}]
    shown = cards[:SLACK_MAX_ALERTS]
    for card in shown:
        lines = [f"*{slack_escape(card.iceberg_id)} · {slack_escape(_cut(card.name, NAME_CHARS))}*",
                 slack_escape(" · ".join(_facts(card)))]
        if card.where:
            lines.append(f"Where else: {slack_escape(_cut(card.where, WHERE_CHARS))}")
        text = "\n".join(lines)
        text = text if len(text) <= SLACK_SECTION_CHARS else text[: SLACK_SECTION_CHARS - 1] + "…"
        section: dict = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        if card.url and len(card.url) <= SLACK_URL_CHARS:
            section["accessory"] = {"type": "button", "text": {"type": "plain_text", "text": "Open in dashboard"},
                                    "url": card.url, "action_id": f"open-{card.iceberg_id}"[:255]}
        blocks += [section, {"type": "divider"}]
    if blocks[-1]["type"] == "divider":
        blocks.pop()
    more = len(cards) - len(shown)
    if more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(
            f"and {more} more" + (f": {more_hint}" if more_hint else ""))}]})
    return {"text": _cut(title, 3000), "blocks": blocks[:SLACK_MAX_BLOCKS]}


_TEAMS_LINK = re.compile(r"\]\s*\(")
_TEAMS_EMPHASIS = re.compile(r"(\*\*|__)")


def teams_escape(text: str) -> str:
    """``text`` that Teams' Markdown shows as written: no link (``[x](y)`` gets a zero-width
    space between ``]`` and ``(``) and no bold (``**``/``__`` split the same way)."""
    text = _TEAMS_LINK.sub(lambda m: "]\u200b(", str(text))
    return _TEAMS_EMPHASIS.sub(lambda m: m.group(1)[0] + "\u200b" + m.group(1)[1], text)


def _teams_container(card: AlertCard) -> dict:
    facts = [{"title": "Alert", "value": teams_escape(RULE_TEXT.get(card.rule, card.rule))}]
    if card.who:
        facts.append({"title": "Tickets", "value": teams_escape(card.who)})
    if card.trend:
        facts.append({"title": "Trend", "value": teams_escape(card.trend)})
    if card.where:
        facts.append({"title": "Where else", "value": teams_escape(_cut(card.where, WHERE_CHARS))})
    items: list[dict] = [{"type": "TextBlock", "weight": "Bolder", "wrap": True,
                          "text": teams_escape(f"{card.iceberg_id} · {_cut(card.name, NAME_CHARS)}")},
                         {"type": "FactSet", "facts": facts}]
    if card.url:
        items.append({"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": "Open in dashboard",
                                                        "url": card.url}]})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def teams_message(cards: list[AlertCard], run_id: str, *, more_hint: str = "") -> dict:
    """A Teams incoming-webhook (or Workflows) message: one Adaptive Card with a title and one
    container per alert, filled while it stays under ``TEAMS_BUDGET`` bytes."""
    body: list[dict] = [{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
                         "text": teams_escape(_title(cards, run_id))}]
    size = len(json.dumps(body).encode())
    shown = 0
    for card in cards:
        container = _teams_container(card)
        grown = len(json.dumps(container).encode()) + 2
        if size + grown > TEAMS_BUDGET:
            break
        body.append(container)
        size += grown
        shown += 1
    more = len(cards) - shown
    if more:
        body.append({"type": "TextBlock", "wrap": True, "isSubtle": True,
                     "text": teams_escape(f"and {more} more" + (f": {more_hint}" if more_hint else ""))})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body, "msteams": {"width": "Full"}}
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}
