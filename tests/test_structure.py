"""Structure-aware preparation and error signatures (``pipeline.text.structure``, ``signatures``).

The fixtures are written from the public formats: a GitHub issue form (headings, a
Code-of-Conduct checkbox, a browser line), a Bugzilla report (user agent, build id), Jira
wiki markup (``{code}``, ``{noformat}``), a Java and a Python stack trace, Maven log lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.text.signatures import error_signatures, exception_signature, masked
from pipeline.text.structure import (is_machine_line, line_shape, structure_summary,
                                     ticket_structure)

PROBLEMS = [
    "Export to PDF hangs at 99 percent when the report has charts",
    "Dark mode resets after every restart of the app",
    "Search returns no results for words with accents such as café",
    "Login with SSO loops back to the sign-in page forever",
    "Notifications arrive twice on the Android widget",
    "Drag and drop of folders duplicates the files inside",
    "CSV import drops the last column when it is empty",
    "Calendar shows events one hour late after the time change",
]
BROWSERS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
            "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"]


def issue_form(i: int) -> str:
    """A GitHub issue-form body: its headings and checkbox are the form's, the rest the reporter's."""
    problem = PROBLEMS[i % len(PROBLEMS)]
    return "\n".join([
        f"Bug: {problem}",
        "### Describe the bug",
        f"{problem}. It started after I updated to version 3.{i % 7}.{i % 3} on my laptop.",
        "### Steps to reproduce",
        f"1. Open the workspace number {1000 + i}",
        "### Environment",
        f"Browser: {BROWSERS[i % 2].format(v=100 + i % 20)}",
        "- [x] I agree to follow this project's Code of Conduct",
    ])


@pytest.fixture(scope="module")
def forms() -> pd.Series:
    return pd.Series([issue_form(i) for i in range(160)])


def test_form_scaffolding_is_learned_from_the_export_and_kept_out_of_the_reporters_words(forms):
    structure = ticket_structure(forms, min_share=0.01)
    learned = {s["shape"] for s in structure.scaffolding if s["scaffolding"]}
    assert "describe the bug" in learned and "steps to reproduce" in learned
    assert "i agree to follow this project s code of conduct" in learned     # checked or not
    assert "browser:" in learned        # a field label: scaffolding as a label
    words = structure.reporter.iloc[4]
    assert words.startswith("Bug: Notifications arrive twice")        # the subject always stays
    assert "It started after I updated" in words
    for form_text in ("Describe the bug", "Code of Conduct", "Gecko", "Environment", "Browser"):
        assert form_text not in words
    assert structure.lines["scaffolding"] > 4 * len(forms)


def test_a_recurring_sentence_whose_tickets_are_about_one_thing_is_a_problem_not_a_form():
    recurring = "The sync service crashes with error 0x80070005 when the disk is full"
    texts = pd.Series([f"Ticket {i}\n{recurring}\nsync disk full crash again on drive {i}" for i in range(30)]
                      + [f"Ticket {i}\n{PROBLEMS[i % 8]} — seen by user {i}" for i in range(270)])
    structure = ticket_structure(texts, min_share=0.01)
    decided = {s["shape"]: s for s in structure.scaffolding}
    shape = line_shape(recurring)
    assert shape in decided and not decided[shape]["scaffolding"]
    assert recurring in structure.reporter.iloc[0]


def test_scaffolding_frequent_within_one_product_counts_though_rare_overall():
    texts, products = [], []
    for i in range(400):
        body = f"Subject {i}\n{PROBLEMS[i % 8]} in build {i}"
        if i < 40:      # one product's own form: 10 % of its tickets overall, all of its own
            body += "\nPlease attach the diagnostics bundle from Settings"
        texts.append(body)
        products.append("desktop" if i < 40 else f"product-{i % 3}")
    shape = line_shape("Please attach the diagnostics bundle from Settings")
    overall = ticket_structure(pd.Series(texts), min_share=0.15)
    within = ticket_structure(pd.Series(texts), groups=pd.Series(products), min_share=0.15)
    assert shape not in {s["shape"] for s in overall.scaffolding if s["scaffolding"]}
    assert shape in {s["shape"] for s in within.scaffolding if s["scaffolding"]}


JAVA_TRACE = """{code}
java.io.IOException: Failed to rename /tmp/hadoop-yarn/staging/job_1633_0042 to /user/history/done_42
\tat org.apache.hadoop.fs.FileSystem.rename(FileSystem.java:1512)
\tat org.apache.hadoop.mapreduce.jobhistory.JobHistoryEventHandler.moveToDone(JobHistoryEventHandler.java:1193)
\t... 12 more
{code}"""
PYTHON_TRACE = """Traceback (most recent call last):
  File "/srv/app/worker.py", line 88, in run
    self.flush()
  File "/srv/app/queue.py", line 12, in flush
    raise KeyError(key)
KeyError"""


def test_machine_text_is_told_apart_from_the_reporters_words():
    text = ("Job history is never moved\nThe job finishes but the history server shows nothing.\n"
            + JAVA_TRACE + "\n2021-09-08 13:35:29,528 INFO  [main] io.Text (Text.java:append(251)) - length: 24576\n"
            "$ hdfs dfs -ls /user/history\n{\"state\": \"FAILED\", \"id\": 42}")
    structure = ticket_structure(pd.Series([text]))
    assert structure.reporter.iloc[0] == ("Job history is never moved\n"
                                          "The job finishes but the history server shows nothing.")
    machine = structure.machine.iloc[0]
    assert "FileSystem.rename" in machine and "INFO  [main]" in machine and "hdfs dfs -ls" in machine
    assert is_machine_line('{"state": "FAILED", "id": 42, "retries": [1, 2]}')
    assert not is_machine_line("The job finishes but the history server shows nothing.")


def test_an_exception_signature_is_its_type_and_masked_message():
    lines = JAVA_TRACE.split("\n")[1:-1]
    assert exception_signature(lines) == "IOException: Failed to rename <path> to <path>"
    assert masked("Element \"btn-42\" not found after 3000 ms") == 'Element "btn-N" not found after N ms'


def test_a_bare_exception_is_signed_by_its_top_frames_without_line_numbers():
    lines = ["java.lang.NullPointerException",
             "\tat org.apache.hadoop.hdfs.server.datanode.DataNode.run(DataNode.java:3012)",
             "\tat org.apache.hadoop.hdfs.server.datanode.BPServiceActor.offerService(BPServiceActor.java:77)",
             "\tat java.lang.Thread.run(Thread.java:748)"]
    assert exception_signature(lines) == \
        "NullPointerException at DataNode.run < BPServiceActor.offerService < Thread.run"
    assert exception_signature(PYTHON_TRACE.split("\n")) == "KeyError at queue.py:flush < worker.py:run"


def test_log_only_tickets_are_signed_by_their_drain3_error_template():
    machine = pd.Series([f"[INFO] Building module {i}\n[ERROR] Failed to execute goal on project hadoop-{m}: "
                         f"Could not resolve dependencies for project {i}" for i, m in
                         enumerate(["common", "hdfs", "yarn", "tools"])] + ["", "[INFO] BUILD SUCCESS"])
    signatures = error_signatures(machine)
    assert signatures.iloc[:4].nunique() == 1
    assert "Failed to execute goal on project" in signatures.iloc[0] and "<*>" in signatures.iloc[0]
    assert signatures.iloc[4:].isna().all()


def test_an_exception_quoted_in_a_sentence_signs_the_ticket():
    signatures = error_signatures(pd.Series([""]),
                                  pd.Series(["Upload fails with java.net.SocketTimeoutException: "
                                             "Read timed out after 60000 ms on every retry"]))
    assert signatures.iloc[0] == "SocketTimeoutException: Read timed out after N ms on every retry"


def test_the_structure_is_reported_in_a_sentence(forms):
    structure = ticket_structure(forms, min_share=0.01)
    record = structure.record(pd.Series(["A: b", None, "A: b"] + [None] * (len(forms) - 3)))
    sentence = structure_summary(record)
    assert "of form scaffolding from" in sentence and "2 tickets with an error signature (1 distinct)" in sentence
    assert record["scaffolding"][0]["tickets"] >= record["scaffolding"][-1]["tickets"]


def test_a_corpus_without_words_or_lines_is_handled():
    structure = ticket_structure(pd.Series(["", "   ", "a"]))
    assert structure.reporter.tolist() == ["", "", "a"] and structure.scaffolding == []
    assert error_signatures(pd.Series([], dtype="str")).empty
    assert np.all(structure.machine == "")
