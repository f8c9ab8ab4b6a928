"""Exports shaped like the real ones helpdesks write (issue 17), built from the formats.

Written here from each product's documented format — no third party's file is copied:
Zendesk's incremental ticket export (``start_time=0``: 12-digit ``36…`` ids, deleted and
scrubbed tickets), Freshdesk's v2 tickets (10-digit ids, ``ticket_type``), Jira's
"Export Excel CSV (all fields)" in another UI language, a day-first Jira export, a plain
Jira CSV with versions and workflow fields, a GitHub issue whose build log holds NUL bytes.
Texts are Banking77 queries, as the rest of the hostile corpus.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
QUERIES = pd.read_csv(ROOT / "tests" / "data" / "banking77_slice.csv")["text"].tolist()
# As Jira Cloud writes display names: few in any first-name list, some a single word.
AGENTS = ("Mansi Patel", "Esther", "Tunde Bakare", "Xiaoling Wu", "Chidi Okeke", "Jo")


def query(i: int) -> str:
    return QUERIES[(i * 37) % len(QUERIES)]


def zendesk_incremental(n: int = 40, deleted_every: int = 2) -> bytes:
    """A Zendesk incremental ticket export page (``GET /api/v2/incremental/tickets.json?
    start_time=0``): ids of accounts from 2018-21 (``36…``, 12 digits), brand, group, form and
    submitter ids, requesters of both id forms, and every ``deleted_every``-th ticket deleted
    (half of those scrubbed: subject ``SCRUBBED``, description ``X``)."""
    tickets = []
    for i in range(n):
        deleted = deleted_every and i % deleted_every == 1
        scrubbed = deleted and i % (2 * deleted_every) == 1
        tickets.append({
            "url": f"https://example.zendesk.com/api/v2/tickets/{360000100 + i}.json",
            "id": 360000100 + i, "external_id": None,
            "via": {"channel": ("email", "web", "api")[i % 3], "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": f"2020-0{1 + i % 9}-{1 + i % 27:02d}T10:{i % 60:02d}:00Z",
            "updated_at": "2020-10-01T00:00:00Z", "type": ("incident", "question", "problem")[i % 3],
            "subject": "SCRUBBED" if scrubbed else query(i).split("?")[0][:60],
            "raw_subject": "SCRUBBED" if scrubbed else query(i)[:60],
            "description": "X" if scrubbed else query(i + 300),
            "priority": ("low", "normal", "high")[i % 3],
            "status": "deleted" if deleted else ("open", "pending", "solved")[i % 3],
            "recipient": None,
            "requester_id": (5527111815439, 360839922496, 361234567890, 1900012345)[i % 4],
            "submitter_id": (360839922496, 5527111815439)[i % 2],
            "assignee_id": (361100000001, 361100000002)[i % 2],
            "organization_id": (360021847631, 360021847632)[i % 2],
            "group_id": (360000358316, 360000358317)[i % 2],
            "brand_id": (360000071234, 360000071235)[i % 2],
            "ticket_form_id": 360000083451,
            "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
            "forum_topic_id": None, "problem_id": None, "has_incidents": False, "is_public": True,
            "due_at": None, "tags": ["billing"] if i % 2 else ["card", "app"],
            "custom_fields": [{"id": 360005599811, "value": ("pro", "basic")[i % 2]}],
            "satisfaction_rating": {"score": "unoffered"}, "sharing_agreement_ids": [],
            "fields": [], "followup_ids": [], "allow_channelback": False, "allow_attachments": True,
            "generated_timestamp": 1601510400,
        })
    page = {"tickets": tickets, "next_page": None, "count": n, "end_of_stream": True,
            "end_time": 1601510400}
    return json.dumps(page, indent=1).encode()


def freshdesk_v2(n: int = 12) -> bytes:
    """Freshdesk API v2 tickets with its 10-digit ids (``5004272351``) and the older
    ``ticket_type`` field next to (or instead of) ``type``."""
    tickets = []
    for i in range(n):
        ticket = {"id": 5004272351 + i, "subject": query(i).split("?")[0][:60],
                  "description_text": query(i + 300), "description": f"<div>{query(i + 300)}</div>",
                  "created_at": f"2023-05-{1 + i:02d}T09:00:00Z", "updated_at": "2023-06-01T00:00:00Z",
                  "requester_id": 5004900000 + i % 3, "responder_id": (5004111111, 5004222222)[i % 2],
                  "company_id": 5000111222, "group_id": (5000338811, 5000338812)[i % 2],
                  "product_id": 5000044441, "email_config_id": 5000055551,
                  "source": 1 + i % 2, "status": 2 + i % 3, "priority": 1 + i % 4,
                  "ticket_type": ("Question", "Incident", "Problem")[i % 3],
                  "tags": ["vip"] if i % 4 == 0 else [], "custom_fields": {}, "fr_escalated": False,
                  "spam": False, "is_escalated": False}
        tickets.append(ticket)
    return json.dumps(tickets, indent=1).encode()


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


PT_MONTHS = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")


def jira_portuguese(n: int = 25, comments: int = 3) -> bytes:
    """Jira Service Management's "Exportar CSV (todos os campos)" with the UI in Portuguese
    (Brazil): localised headers, ``Comentar`` repeated, dates such as ``05/set/23 9:50 AM``."""
    header = (["Resumo", "Chave da item", "ID da item", "Tipo de item", "Status", "Chave do projeto",
               "Prioridade", "Resolução", "Responsável", "Relator", "Criador", "Criado", "Atualizado",
               "Resolvido", "Rótulos", "Descrição"] + ["Comentar"] * comments
              + ["Campo personalizado (Request Type)"])
    rows = []
    for i in range(n):
        month = 6 + i % 6                                    # June to November 2023
        created = f"{1 + i % 27:02d}/{PT_MONTHS[month - 1]}/23 {1 + i % 11}:{i % 60:02d} {'AM' if i % 2 else 'PM'}"
        updated = f"{1 + i % 27:02d}/{PT_MONTHS[min(month, 11)]}/23 10:00 AM"
        notes = [f"{created};{AGENTS[i % 6]};{query(i + 600)}" if c == 0 and i % 2 else "" for c in range(comments)]
        rows.append([query(i).split("?")[0][:60], f"SUP-{100 + i}", str(10100 + i), "Incidente",
                     ("Aberto", "Em andamento", "Resolvido")[i % 3], "SUP", ("Alta", "Média", "Baixa")[i % 3],
                     "Concluído" if i % 3 == 2 else "", AGENTS[i % 6], AGENTS[(i + 1) % 6], AGENTS[(i + 1) % 6],
                     created, updated, "", "acesso" if i % 2 else "", query(i + 300)] + notes
                    + [("Obter ajuda de TI", "Relatar um problema")[i % 2]])
    return _csv(header, rows)


def jira_day_first(n: int = 44, start: str = "2023-01-01 08:00", hours: float = 5.0,
                   resolved: bool = False) -> bytes:
    """A Jira CSV whose dates are day-first numbers (``10/01/2023 10:45``) none of which is
    unambiguous by itself: created every ``hours`` from ``start``, rising with the key; days
    past the 12th are skipped so that every date reads both ways."""
    header = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Priority", "Assignee",
              "Reporter", "Created", "Updated"] + (["Resolved"] if resolved else []) + ["Description"]
    rows, created = [], pd.Timestamp(start)
    for i in range(n):
        while created.day > 12:
            created += pd.Timedelta(days=1)
            created = created.replace(hour=8)
        updated = created + pd.Timedelta(hours=2)
        done = [(created + pd.Timedelta(days=29)).strftime("%d/%m/%Y %H:%M")] if resolved else []
        rows.append([query(i).split("?")[0][:60], f"OPS-{1 + i}", str(20000 + i), "Bug", "Open", "Major",
                     AGENTS[i % 6], AGENTS[(i + 2) % 6], created.strftime("%d/%m/%Y %H:%M"),
                     updated.strftime("%d/%m/%Y %H:%M")] + done + [query(i + 300)])
        created += pd.Timedelta(hours=hours)
    return _csv(header, rows)


def jira_plain(n: int = 60) -> bytes:
    """A plain Jira CSV (Jira Server's "Export CSV (current fields)") with the versions and
    components an issue tracker answers "where else" with, and workflow fields."""
    header = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Priority", "Resolution",
              "Assignee", "Reporter", "Created", "Resolved", "Affects Version/s", "Fix Version/s",
              "Component/s", "Description"]
    rows = []
    for i in range(n):
        versions = ("2.7.0", "2.7.0, 2.8.0", "3.0.0")[i % 3]
        rows.append([query(i).split("?")[0][:60], f"HADOOP-{1000 + i}", str(1200000 + i), "Bug",
                     ("Resolved", "Closed", "Open")[i % 3], ("Major", "Minor", "Critical")[i % 3],
                     ("Fixed", "Done", "")[i % 3], AGENTS[i % 6], AGENTS[(i + 1) % 6],
                     f"2019-0{1 + i % 9}-{1 + i % 27:02d} 10:00", f"2019-1{i % 3}-{1 + i % 28:02d} {10 + i % 9}:{i % 60:02d}",
                     versions, ("3.1.0", "")[i % 2], ("hdfs", "yarn, common")[i % 2], query(i + 300)])
    return _csv(header, rows)


def github_issue_with_nul() -> bytes:
    """A GitHub issues export (title, body, labels) whose build log pasted in one body holds NULs."""
    header = ["number", "title", "body", "state", "created_at", "labels"]
    log = "Build failed:\n```\n[ERROR] compile \x00\x00\x00 javac exited with 1\n```\nPlease help."
    rows = [[str(i), query(i).split("?")[0][:60], log if i == 2 else query(i + 300), "open",
             f"2024-02-0{i}T10:00:00Z", "bug"] for i in range(1, 5)]
    return _csv(header, rows)


# --- the hostile corpus's cases for these exports (tests/hostile/make_corpus.py) ---------------

PLACEHOLDER = r"\[(?:PHONE|CARD|IBAN|IP|EMAIL|URL)\]"


def _no_placeholder(tickets: pd.DataFrame, columns) -> bool:
    return not any(tickets[c].dropna().astype(str).str.contains(PLACEHOLDER).any() for c in columns)


def _ids_kept(o) -> bool:
    t = o.tickets
    return (set(t["brand_id"]) == {"360000071234", "360000071235"}
            and set(t["group_id"]) == {"360000358316", "360000358317"}
            and set(t["customer_id"]) == {"5527111815439", "360839922496", "361234567890", "1900012345"}
            and _no_placeholder(t, ["ticket_id", "customer_id", "agent_id", "account_id", "brand_id",
                                    "group_id", "submitter_id", "ticket_form_id"]))


def _no_name_in_clear(o) -> bool:
    cells = o.tickets.drop(columns=["text", "subject"]).astype(str)
    clear = any(cells.apply(lambda c: c.str.contains(name, regex=False)).any().any() for name in AGENTS)
    hexes = lambda column: set(o.tickets[column].str.split("-").str[1])       # noqa: E731
    return not clear and hexes("agent_id") == hexes("customer_id")


def hadoop_shaped(n: int = 60) -> bytes:
    """``jira_plain`` cut to the columns of gitbugs' Hadoop export (no Issue key: a plain CSV)."""
    frame = pd.read_csv(io.BytesIO(jira_plain(n)), dtype=str, keep_default_na=False)
    return frame.drop(columns=["Issue key", "Issue Type", "Assignee", "Reporter"]).to_csv(index=False).encode()


def cases(Case) -> list:
    """The corpus's cases for real exports; ``Case`` is the corpus's case class."""
    return [
        Case("zendesk_incremental_ids.json", "Zendesk's incremental export with 12-digit `36…` ids "
             "(brand, group, form, submitter, requester)",
             lambda: zendesk_incremental(40, deleted_every=0), tickets=40,
             expect="every id kept as written: brand_id and group_id are two values each, not `[PHONE]`; "
                    "no id column holds a placeholder",
             check=_ids_kept),
        Case("zendesk_deleted.json", "Zendesk's incremental export (`start_time=0`): half its tickets "
             "`status = \"deleted\"`, some scrubbed (subject `SCRUBBED`, body `X`)",
             lambda: zendesk_incremental(8, deleted_every=2), tickets=4,
             quarantined=tuple((row, "set aside: deleted ticket (status = 'deleted')") for row in range(2, 9, 2)),
             expect="deleted tickets are set aside, not counted as tickets: the manifest's `counts.set_aside` "
                    "is 4 (`input.keep_deleted = true` keeps them)",
             check=lambda o: o.manifest["counts"]["set_aside"] == 4 and "SCRUBBED" not in set(o.tickets["subject"])),
        Case("jira_cloud_names.csv", "a Jira Cloud export whose assignees and reporters are display names "
             "few first-name lists know (`Mansi Patel`, `Esther`, `Jo`)",
             lambda: jira_plain(24), tickets=24,
             expect="no name in clear in any column: assignee and reporter pseudonymised by role, "
                    "the same person with the same hash in both",
             check=_no_name_in_clear),
        Case("jira_day_first.csv", "a Jira export of day-first numeric dates none of which is unambiguous "
             "(`01/11/2023` … `12/02/2024`)",
             lambda: jira_day_first(48, start="2023-11-01 08:00", hours=24), tickets=48,
             expect="read day-first, decided by evidence: created dates rise with the issue key only so "
                    "(the manifest's `order_decided_by` says which evidence); no date after 12 Feb 2024",
             check=lambda o: (o.manifest["columns"]["created_at"]["order"] == "day-first"
                              and "rises with the key" in o.manifest["columns"]["created_at"]["order_decided_by"]
                              and o.tickets["created_at"].max() < pd.Timestamp("2024-02-13", tz="UTC"))),
        Case("jira_portuguese.csv", "a Jira Service Management export in Portuguese (`Resumo`, `Chave da item`, "
             "`Criado`, `Descrição`, `Comentar` ×38, `Campo personalizado (Request Type)`; `05/set/23 9:50 AM`)",
             lambda: jira_portuguese(25, comments=38), tickets=25,
             expect="read as Jira (`--source auto`): every request with its date, June to November 2023",
             check=lambda o: (o.manifest["inputs"][0]["format"] == "jira"
                              and sorted(o.tickets["created_at"].dt.month.unique()) == [6, 7, 8, 9, 10, 11]
                              and o.manifest["columns"]["roles"]["body"] == ["Description"])),
        Case("jira_plain_versions.csv", "a plain Jira CSV (no Issue key) with `Affects Version/s` "
             "(`2.7.0, 2.8.0`), `Fix Version/s`, `Component/s` and the workflow fields Status, Priority, Resolution",
             hadoop_shaped, tickets=60,
             expect="the versions and components are multi-valued where-dimensions; Status, Priority and "
                    "Resolution are handling attributes (`columns.handling`): kept as columns, never "
                    "where-else evidence",
             check=lambda o: (o.manifest["columns"]["dimensions"] == ["Affects Version/s", "Fix Version/s", "Component/s"]
                              and o.manifest["columns"]["handling"] == ["Status", "Priority", "Resolution"]
                              and set(o.tickets["Status"]) == {"Resolved", "Closed", "Open"})),
        Case("github_issue_nul.csv", "a GitHub issue whose pasted build log holds NUL bytes",
             github_issue_with_nul, tickets=4,
             expect="the issue is kept, its text without the NULs; the manifest counts 3 NUL bytes removed",
             check=lambda o: (o.manifest["inputs"][0]["nul_bytes_removed"] == {"rows": 1, "fields": 1, "bytes": 3}
                              and "javac exited with 1" in o.tickets.set_index("ticket_id").loc["2", "text"]
                              and not o.tickets["text"].str.contains("\x00").any())),
    ]
