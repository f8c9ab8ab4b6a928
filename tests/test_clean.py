import pandas as pd
import pytest

from pipeline.text.clean import clean_text, cleaned_texts
from pipeline.config import CleanConfig

CONFIG = CleanConfig()


def test_html_becomes_text_with_its_line_breaks():
    markup = ("<html><head><style>p {color: red}</style></head><body>"
              "<p>Hello,</p><p>The export&nbsp;fails with <b>error 500</b>.<br>Since Monday &amp; today.</p>"
              "<ul><li>Chrome</li><li>Firefox</li></ul></body></html>")
    assert clean_text(markup, CONFIG) == ("Hello,\n\nThe export fails with error 500.\n"
                                          "Since Monday & today.\n\nChrome\n\nFirefox")


def test_entities_in_plain_text_are_unescaped():
    assert clean_text("Tom &amp; Jerry say &quot;hi&quot; &#8364;5", CONFIG) == 'Tom & Jerry say "hi" €5'


def test_html_blockquote_reply_is_dropped():
    markup = ('<div>New problem: sync fails</div>'
              '<div class="gmail_quote">On Mon wrote:<blockquote>old</blockquote></div>')
    assert clean_text(markup, CONFIG) == "New problem: sync fails"


@pytest.mark.parametrize("history", [
    "On Mon, Jan 1, 2024 at 10:00 AM John Doe <john@example.com> wrote:\n> previous message\n> more",
    "On Mon, Jan 1, 2024 at 10:00 AM John Doe <\njohn@example.com> wrote:\n\nprevious message",
    "-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: Re: x\n\nold message",
    "From: Support Team <s@example.com>\nSent: Monday, January 1, 2024 10:00\nTo: me\n\nold message",
    "Am 01.01.2024 um 10:00 schrieb Support <s@example.com>:\nalte Nachricht",
    "> quoted line\n> another quoted line",
])
def test_quoted_replies_are_removed(history):
    assert clean_text(f"The app crashes on start.\n\n{history}", CONFIG) == "The app crashes on start."


def test_quoted_lines_inside_the_message_go_but_the_rest_stays():
    text = "I still see this:\n> Your export is ready\nbut the file is empty."
    assert clean_text(text, CONFIG) == "I still see this:\nbut the file is empty."


def test_a_sentence_that_merely_says_wrote_is_kept():
    text = "On Monday the app crashed and my colleague wrote:\nerror 500 everywhere"
    assert clean_text(text, CONFIG) == text


@pytest.mark.parametrize("signature", [
    "-- \nJohn Smith | CTO\n+1 415 555 2671",
    "--\nJohn",
    "Sent from my iPhone",
    "Best regards,\nJohn Smith\nAcme Inc.",
    "Thanks!",
    "Kind regards\n\nJane",
])
def test_signatures_are_removed(signature):
    assert clean_text(f"Please fix the sync.\n\n{signature}", CONFIG) == "Please fix the sync."


@pytest.mark.parametrize("text", [
    "The email I sent from my iPhone bounced back.",
    "Hi,\nThe app crashes.\nThanks\nAlso the login fails since the update.\nJohn",
    "Thanks for the quick reply, but the export still fails.",
])
def test_sentences_that_look_like_signatures_are_kept(text):
    assert clean_text(text, CONFIG) == text


@pytest.mark.parametrize("text", [
    "Thanks,\nJohn",
    "On Mon, Jan 1, 2024 at 10:00 AM John wrote:\nthe whole ticket is a quoted reply",
    "> only a quoted line",
    "-- \nonly a signature",
])
def test_never_empties_a_real_message(text):
    assert clean_text(text, CONFIG) != ""


@pytest.mark.parametrize("text, expected", [
    ("On XX/XX/2019 I paid {$1200.00} to XXXX XXXX bank, account XXXX1234, again on XX/XX/XXXX.",
     "On date I paid amount to bank, account, again on date."),
    ("On XX/XX/year>, I wrote toXX/XX/XXXX and NumberXXXX", "On date, I wrote to date and Number"),
    ("due XX/XX/19 or XX-XX-2020", "due date or date"),
])
def test_cfpb_masks_are_neutralised(text, expected):
    assert clean_text(text, CONFIG) == expected


def test_separators_left_by_masked_lists_are_tidied():
    text = "I live at XXXX XXXX, XXXX, OH XXXX. Creditors: XXXX, XXXX XXXX , XXXX."
    assert clean_text(text, CONFIG) == "I live at, OH. Creditors:."


def test_masks_kept_when_disabled_and_only_masks_become_empty():
    assert clean_text("I paid XXXX", CleanConfig(neutralise_masks=False)) == "I paid XXXX"
    assert clean_text("XXXX XXXX", CONFIG) == ""
    assert clean_text("The XXL size and TAX ids stay", CONFIG) == "The XXL size and TAX ids stay"


def test_steps_can_be_switched_off():
    text = "Broken.\n\nOn Mon, Jan 1, 2024 at 10:00 AM John wrote:\n> old\n\n--\nJohn"
    config = CleanConfig(strip_quoted_replies=False, strip_signatures=False)
    assert clean_text(text, config) == text


def test_whitespace_is_normalised():
    text = "  I   have\t\ttabs \u00a0 and\u200b\r\n\r\n\r\n\r\nlines  "
    assert clean_text(text, CONFIG) == "I have tabs and\n\nlines"


def test_short_text_is_returned_for_the_caller_to_quarantine():
    assert clean_text("ok", CONFIG) == "ok"


def test_cleaned_texts_is_pure_and_keeps_the_index():
    texts = pd.Series(["<p>a &amp; b</p>", None, "  c  "], index=[10, 11, 12], name="text")
    before = texts.copy()
    cleaned = cleaned_texts(texts, CONFIG)
    assert cleaned.tolist() == ["a & b", "", "c"]
    assert cleaned.index.tolist() == [10, 11, 12] and cleaned.name == "text"
    pd.testing.assert_series_equal(texts, before)
