"""The e-mail digest: the run's alerts and top icebergs as a short HTML + plain-text mail,
sent by SMTP (STARTTLS by default; the password from an environment variable), with
retries, never failing the run.

``digest_message(changes, run, …)`` builds the ``EmailMessage`` (read only over the run);
``send_digest(message, config)`` delivers it and returns a record like the webhook's.
HTML is rendered by Jinja2 with autoescape on, inline styles only (mail clients drop
``<style>``), links only from ``dashboard.url``.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from jinja2 import Environment, select_autoescape
from tenacity import RetryError

from pipeline.config import AlertsConfig
from pipeline.ops.alerts import Retryable, delivery_retrying

log = logging.getLogger("iceberg")
TOP = 5

_HTML = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string("""\
<!doctype html>
<html><body style="margin:0;padding:16px;background:#f5f6f8;font-family:Helvetica,Arial,sans-serif;color:#1d2330">
<div style="max-width:640px;margin:0 auto;background:#ffffff;border:1px solid #dde1e7;border-radius:6px;padding:20px">
<h1 style="font-size:20px;margin:0 0 4px 0">{{ title }}</h1>
<p style="margin:0 0 16px 0;color:#5b6372;font-size:13px">Run {{ run_id }}{% if previous %} (since {{ previous }}){% endif %}
 · {{ summary }}</p>
{% if alerts %}<h2 style="font-size:16px;margin:16px 0 8px 0">Alerts</h2>
{% for a in alerts %}<div style="border-left:4px solid #d9534f;padding:6px 10px;margin:0 0 10px 0;background:#fdf3f2">
<div style="font-weight:bold">{{ a.iceberg_id }} · {{ a.name }}</div>
<div style="font-size:13px">{{ a.facts }}</div>
{% if a.where %}<div style="font-size:13px;color:#5b6372">Where else: {{ a.where }}</div>{% endif %}
{% if a.url %}<div style="font-size:13px;margin-top:4px"><a href="{{ a.url }}" style="color:#1f5fbf">Open in the dashboard</a></div>{% endif %}
</div>{% endfor %}{% else %}<p>No alerts this run.</p>{% endif %}
{% if top %}<h2 style="font-size:16px;margin:16px 0 8px 0">Top icebergs</h2>
<table style="border-collapse:collapse;width:100%;font-size:13px">
<tr style="text-align:left;color:#5b6372"><th style="padding:4px">#</th><th style="padding:4px">Iceberg</th>
<th style="padding:4px">Tickets</th><th style="padding:4px">Trend</th></tr>
{% for t in top %}<tr style="border-top:1px solid #e6e9ee"><td style="padding:4px">{{ t.rank }}</td>
<td style="padding:4px">{% if t.url %}<a href="{{ t.url }}" style="color:#1f5fbf">{{ t.iceberg_id }} · {{ t.name }}</a>{% else %}{{ t.iceberg_id }} · {{ t.name }}{% endif %}</td>
<td style="padding:4px">{{ t.who }}</td><td style="padding:4px">{{ t.trend }}</td></tr>{% endfor %}
</table>{% endif %}
<p style="margin:16px 0 0 0;font-size:12px;color:#8a91a0">Iceberg · iceberg diff --out {{ out }} shows every change.</p>
</div></body></html>
""")


def _top_icebergs(run, dashboard_url: str, n: int = TOP) -> list[dict]:
    from pipeline.links import iceberg_url
    from pipeline.ops.chat import AlertCard
    from pipeline.reports import lines
    from pipeline.schemas import IcebergCols as I
    from pipeline.store.curation import CurationCols as CU

    icebergs = run.curated_icebergs().sort_values(I.rank, kind="stable")
    if I.boilerplate in icebergs:
        icebergs = icebergs[~icebergs[I.boilerplate].fillna(False).astype(bool)]
    if CU.status in icebergs:
        icebergs = icebergs[icebergs[CU.status] != "dismissed"]
    rows = []
    for r in icebergs.head(n).to_dict(orient="records"):
        name = r.get(CU.name) if lines.present(r.get(CU.name)) else r[I.label]
        card = AlertCard("", r[I.iceberg_id], str(name), "", int(r[I.size]),
                         int(r[I.n_customers]) if lines.present(r.get(I.n_customers)) else None, None, None, None)
        rows.append({"rank": int(r[I.rank]), "iceberg_id": r[I.iceberg_id], "name": str(name), "who": card.who,
                     "trend": str(r[I.trend]) if lines.present(r.get(I.trend)) else "",
                     "url": iceberg_url(dashboard_url, r[I.iceberg_id], run.run_id)})
    return rows


def digest_message(changes: dict, run, *, dashboard_url: str, sender: str, recipients: list[str],
                   out: str) -> EmailMessage:
    """The digest of ``changes`` (changes.json's dict) and ``run``'s top icebergs as a
    multipart/alternative mail (plain text first, then HTML)."""
    from pipeline.ops.chat import _facts, alert_cards

    cards = alert_cards(changes, run, dashboard_url)
    top = _top_icebergs(run, dashboard_url)
    s = changes.get("summary", {})
    summary = (f"{s.get('icebergs', 0)} icebergs; {s.get('new', 0)} new, {s.get('growing', 0)} growing, "
               f"{s.get('faded', 0)} faded")
    n = len(cards)
    title = f"Iceberg: {n} alert{'s' if n != 1 else ''}" if n else "Iceberg: no alerts"
    alerts = [{"iceberg_id": c.iceberg_id, "name": c.name, "facts": " · ".join(_facts(c)), "where": c.where,
               "url": c.url} for c in cards]
    text = [title, f"Run {changes['run_id']} · {summary}", ""]
    for a in alerts:
        text += [f"* {a['iceberg_id']} · {a['name']}", f"  {a['facts']}"]
        text += [f"  Where else: {a['where']}"] if a["where"] else []
        text += [f"  {a['url']}"] if a["url"] else []
    if top:
        text += ["", "Top icebergs:"]
        text += [f"  #{t['rank']} {t['iceberg_id']} · {t['name']} · {t['who']}"
                 + (f" · {t['trend']}" if t["trend"] else "") + (f"\n     {t['url']}" if t["url"] else "")
                 for t in top]
    text += ["", f"iceberg diff --out {out} shows every change."]
    message = EmailMessage()
    message["Subject"] = f"{title} (run {changes['run_id']})"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content("\n".join(text))
    message.add_alternative(_HTML.render(title=title, run_id=changes["run_id"],
                                         previous=changes.get("previous_run_id"), summary=summary,
                                         alerts=alerts, top=top, out=out), subtype="html")
    return message


def send_digest(message: EmailMessage, config: AlertsConfig, environ=None) -> dict:
    """Send ``message`` by ``alerts.smtp_*``; returns {status, attempts, error, seconds}; never raises."""
    environ = os.environ if environ is None else environ
    record = {"to": list(config.email_to), "status": "skipped", "attempts": 0, "error": None, "seconds": 0.0}
    if not config.email_to:
        return record
    password = environ.get(config.smtp_password_env, "") if config.smtp_password_env else ""
    started = time.perf_counter()

    def attempt() -> None:
        record["attempts"] += 1
        try:
            with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.webhook_timeout) as smtp:
                smtp.ehlo()
                if config.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if config.smtp_user:
                    smtp.login(config.smtp_user, password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:   # 4xx: try again later; 5xx: permanent
            if exc.smtp_code < 500:
                raise Retryable(f"SMTP {exc.smtp_code}") from exc
            raise
        except smtplib.SMTPNotSupportedError:          # e.g. no STARTTLS: retrying will not help
            raise
        except OSError as exc:                         # connection refused, reset, timeout
            raise Retryable(f"{type(exc).__name__}: {exc}") from exc

    try:
        delivery_retrying(config)(attempt)
        record["status"] = "delivered"
    except RetryError as exc:
        record.update(status="failed", error=str(exc.last_attempt.exception()))
    except Exception as exc:   # noqa: BLE001 — a digest must never fail the run
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    record["seconds"] = round(time.perf_counter() - started, 3)
    level = logging.WARNING if record["status"] == "failed" else logging.INFO
    log.log(level, "alert digest to %d recipient(s): %s%s", len(config.email_to), record["status"],
            f" ({record['error']})" if record["error"] else "", extra={"event": "digest", "digest": record})
    return record
