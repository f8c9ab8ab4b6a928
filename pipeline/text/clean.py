"""Clean ticket text before it is embedded: what a customer wrote, without the noise.

HTML becomes text, and quoted replies, signatures and the masks of pre-redacted exports
(CFPB's ``XXXX``) go, since clusters would otherwise form around them. Stripping replies
and signatures is conservative: a step that would leave no words keeps the text as it
was. A text of nothing but masks does become empty, for the caller to quarantine.
"""

from __future__ import annotations

import html
import re
import warnings

import pandas as pd
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from pipeline.config import CleanConfig

HTML_TAG = re.compile(r"</?(?:p|br|div|span|html|body|table|tr|td|th|li|ul|ol|b|i|u|a|strong|em|"
                      r"h[1-6]|blockquote|font|img|hr|pre|code)\b[^>]*>", re.IGNORECASE)
HTML_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});", re.IGNORECASE)
BLOCK_TAGS = ["p", "div", "li", "tr", "table", "ul", "ol", "pre", "hr",
              "h1", "h2", "h3", "h4", "h5", "h6"]

# The start of a quoted earlier message: everything from here on is history.
REPLY_HEADER = re.compile(
    r"^[ \t]*(?:"
    r"On\b[^\n]{0,200}\d[^\n]{0,200}(?:\n[^\n]{0,200})?\bwrote:[ \t]*$"  # On <date>, <name> wrote:
    r"|Am\b[^\n]{0,200}\d[^\n]{0,200}\bschrieb[^\n]{0,100}:[ \t]*$"      # German
    r"|Le\b[^\n]{0,200}\d[^\n]{0,200}\ba écrit ?:[ \t]*$"                 # French
    r"|-{2,}\s*Original Message\s*-{2,}"
    r"|From:[^\n]+\n(?:[^\n]*\n){0,3}?[ \t]*(?:Sent|Date):"                 # Outlook header block
    r")",
    re.IGNORECASE | re.MULTILINE)
QUOTED_LINE = re.compile(r"^[ \t]*>.*(?:\n|$)", re.MULTILINE)

SIGNATURE_START = re.compile(
    r"^-- ?$"
    r"|(?-i:Sent) from my (?:i?Phone|iPad|Android|Samsung|Galaxy|Pixel|Huawei|BlackBerry|mobile)\b"
    r"[^\n.]{0,30}$"
    r"|^Get Outlook for \w+",
    re.IGNORECASE | re.MULTILINE)
SIGN_OFF = re.compile(
    r"(?:thanks|thank you|thanks again|many thanks|thx|best|best regards|kind regards|"
    r"warm regards|regards|cheers|sincerely|yours sincerely|yours truly|br|"
    r"mit freundlichen grüßen|viele grüße|cordialement|bien à vous)[ \t]*[,.!]?",
    re.IGNORECASE)
MAX_LINES_AFTER_SIGN_OFF = 3     # name, title, company
MAX_NAME_LINE_CHARS = 40
MAX_SIGNATURE_LINES = 9          # …and the contact lines under them: address, phone, e-mail, web
MAX_CONTACT_LINE_CHARS, MAX_CONTACT_LINE_WORDS = 70, 9
CONTACT_LABEL = re.compile(r"(?:tel|phone|mobile|mob|cell|fax|e-?mail|mail|web|website|address|addr|"
                           r"adresse|anschrift|tél|telefon|handy|mobil|direct|office|[tmfew])\.?[ \t]*[:.]",
                           re.IGNORECASE)
# "London NW1 6XE", "Springfield, IL 62704", "10115 Berlin", "75002 Paris"
POSTCODE_LINE = re.compile(r"[A-Z][\w'. -]+,?[ \t]+(?:[A-Z]{2}[ \t]+)?\d{5}(?:-\d{4})?"
                           r"|\d{4,5}[ \t]+[A-ZÀ-Þ][\w' -]+"
                           r"|(?:[A-Z][\w'. -]+,?[ \t]+)?[A-Z]{1,2}\d[A-Z\d]?[ \t]*\d[A-Z]{2}")

# CFPB masks day and month, often the year ("year>" is what is left of a "<year>" tag), and
# glues masks to the words around them ("andXX/XX/XXXX", "NumberXXXX").
MASKED_DATE = re.compile(r"(?<!X)X{2}[/-]X{2}(?!X)(?:[/-]+(?:X{2,8}|\d{4}|\d{2}|year>|scrub>)?)?(?!\d)")
MASKED_AMOUNT = re.compile(r"\{\$[\d,]*(?:\.\d+)?\}")
MASK_TOKEN = re.compile(r"X{4,}\d*|\bX{2,3}\b\d*")
DANGLING_COMMA = re.compile(r",[ \t]*(?=[,.;:])|(?<=[:;])[ \t]*,")
ORPHAN_PUNCTUATION = re.compile(r"[ \t]+([,.;:])")
BLANK_LINES = re.compile(r"\n{3,}")
INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
WORD = re.compile(r"\w")


def cleaned_texts(texts: pd.Series, config: CleanConfig) -> pd.Series:
    """``clean_text`` of every text (missing ones become ""), then the corpus's boilerplate
    lines removed; on a new Series with the same index."""
    cleaned = [clean_text(t, config) if isinstance(t, str) else "" for t in texts]
    if config.boilerplate_min_share > 0:
        boilerplate = boilerplate_lines(cleaned, config.boilerplate_min_share, config.boilerplate_max_words)
        cleaned = [without_lines(t, boilerplate) for t in cleaned]
    return pd.Series(cleaned, index=texts.index, name=texts.name, dtype="str")


def boilerplate_lines(texts: list[str], min_share: float, max_words: int) -> frozenset[str]:
    """Short lines that recur across many tickets: template subjects ("Chat conversation",
    "Contact form: cards"), greetings, closings. They say how a ticket arrived, not what
    it is about, and would otherwise pull tickets together by channel instead of problem.

    A line counts when it has at most ``max_words`` words and appears in at least
    ``min_share`` of the texts (and in at least 5 of them).

    Labels that open a line ("Call notes: customer says: …") count the same way: a
    recurring ``label:`` prefix of at most ``max_words`` words is boilerplate too.
    """
    counts: dict[str, int] = {}
    for text in texts:
        keys = set()
        for line in text.split("\n"):
            key = _line_key(line)
            if key and len(key.split()) <= max_words:
                keys.add(key)
            label = _label_prefix(line, max_words)
            if label:
                keys.add(label)
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    threshold = max(5, min_share * len(texts))
    return frozenset(key for key, n in counts.items() if n >= threshold)


def without_lines(text: str, boilerplate: frozenset[str]) -> str:
    """``text`` without boilerplate lines and line labels, and without a first line that
    the next one repeats (a subject that is the start of the body); unchanged if nothing
    would remain."""
    kept = []
    for line in text.split("\n"):
        if _line_key(line) in boilerplate:
            continue
        label = _label_prefix(line, len(line.split()))
        if label in boilerplate:
            line = line.split(":")[len(label.split(":")) - 1:]
            line = ":".join(line).strip()
        kept.append(line)
    paragraphs = [line for line in kept if line.strip()]
    if len(paragraphs) >= 2 and _line_key(paragraphs[1]).startswith(_line_key(paragraphs[0])):
        kept.remove(paragraphs[0])
    result = normalised_whitespace("\n".join(kept))
    return result if WORD.search(result) else text


REPLY_PREFIX = re.compile(r"^(?:(?:re|fw|fwd|aw|sv|wg)\s*:\s*)+", re.IGNORECASE)
LINE_LABEL = re.compile(r"^((?:[^:\n]{1,40}:)+)\s*\S")


def _line_key(line: str) -> str:
    line = REPLY_PREFIX.sub("", line.strip())
    return " ".join(line.lower().split()).strip(" .,!?:;-")


def _label_prefix(line: str, max_words: int) -> str | None:
    """``"call notes: customer says:"`` for ``"Call notes: customer says: my card…"``."""
    match = LINE_LABEL.match(line.strip())
    if not match or len(match.group(1).split()) > max_words:
        return None
    return " ".join(match.group(1).lower().split()) + " …"


def clean_text(text: str, config: CleanConfig) -> str:
    """The customer's own words in ``text``, on tidy lines with at most one blank line between.

    Text shorter than ``config.min_chars`` is returned as it is; the caller quarantines it.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if HTML_TAG.search(text):
        text = html_text(text, drop_quotes=config.strip_quoted_replies)
    elif HTML_ENTITY.search(text):
        text = html.unescape(text)
    if config.strip_quoted_replies:
        text = _kept(text, without_quoted_replies(text))
    if config.strip_signatures:
        text = _kept(text, without_signature(text))
    if config.neutralise_masks:
        text = neutralised_masks(text)
    return normalised_whitespace(text)


def html_text(markup: str, drop_quotes: bool = True) -> str:
    """The text of an HTML fragment, with its paragraphs and line breaks as newlines."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    if drop_quotes:
        for tag in soup.find_all(["blockquote"]) + soup.find_all(class_="gmail_quote"):
            tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return soup.get_text()


def without_quoted_replies(text: str) -> str:
    """``text`` up to the first reply header ("On … wrote:", "-----Original Message-----",
    "From: … Sent: …"), without lines quoted with ">"."""
    header = REPLY_HEADER.search(text)
    if header:
        text = text[:header.start()]
    return QUOTED_LINE.sub("", text)


def without_signature(text: str) -> str:
    """``text`` without a "-- " signature, a "Sent from my iPhone" footer, or a closing
    block: a sign-off ("Best regards,") followed only by a few short lines such as a name,
    and the contact lines under it (street, postcode and city, "Tel: …", e-mail, web); or,
    with no sign-off, a name line followed only by such contact lines."""
    start = SIGNATURE_START.search(text)
    if start:
        text = text[:start.start()]
    lines = text.rstrip().split("\n")
    names = contacts = 0
    name_above_contacts = None
    for back in range(1, min(len(lines), MAX_SIGNATURE_LINES + 1) + 1):
        line = lines[-back].strip()
        if SIGN_OFF.fullmatch(line):
            return "\n".join(lines[:-back])
        if not line:
            continue
        if is_contact_line(line):
            if names:          # a contact line above a name: not the end of a signature
                break
            contacts += 1
            continue
        if not _could_be_name(line) or names == MAX_LINES_AFTER_SIGN_OFF:
            break
        names += 1
        if contacts and name_above_contacts is None and _reads_as_name(line):
            name_above_contacts = back
    if name_above_contacts is not None:
        return "\n".join(lines[:-name_above_contacts])
    return text


def is_contact_line(line: str) -> bool:
    """A short line of a signature's contact block: a phone, e-mail or web address, a label
    such as "Tel:", a street, or a postcode with its city."""
    from pipeline.text.people import ADDRESS
    from pipeline.text.phones import phone_spans
    from pipeline.text.redact import EMAIL, URL

    line = line.strip()
    if len(line) > MAX_CONTACT_LINE_CHARS or len(line.split()) > MAX_CONTACT_LINE_WORDS:
        return False
    return bool(CONTACT_LABEL.match(line) or POSTCODE_LINE.fullmatch(line.rstrip(".,"))
                or EMAIL.search(line) or URL.search(line) or ADDRESS.search(line) or phone_spans(line))


def _reads_as_name(line: str) -> bool:
    """Two to four capitalised words ("Jane Doe", "Dr. Lukas Becker")."""
    words = line.rstrip(",.").split()
    return 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words)


def neutralised_masks(text: str) -> str:
    """``text`` with CFPB-style masks neutral: ``XX/XX/2019`` -> "date", ``{$12.00}`` ->
    "amount", and ``XXXX`` tokens removed."""
    masked = MASKED_DATE.sub(" date ", text)
    masked = MASKED_AMOUNT.sub(" amount ", masked)
    masked = MASK_TOKEN.sub(" ", masked)
    if masked == text:
        return text
    # Masked lists leave their separators behind ("at XXXX, XXXX, OH" -> "at , , OH"); keep one.
    return ORPHAN_PUNCTUATION.sub(r"\1", DANGLING_COMMA.sub("", masked))


def normalised_whitespace(text: str) -> str:
    """Runs of spaces collapsed, lines trimmed, at most one blank line in a row, ends stripped."""
    text = INVISIBLE.sub("", text)
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return BLANK_LINES.sub("\n\n", text).strip()


def _could_be_name(line: str) -> bool:
    """A short line of at most five words that does not end a sentence ("Acme Inc." may)."""
    words = line.split()
    return (len(line) <= MAX_NAME_LINE_CHARS and len(words) <= 5 and not line.endswith(("?", "!", ":"))
            and not (line.endswith(".") and len(words[-1]) > 4))


def _kept(before: str, after: str) -> str:
    """``after``, unless the step that made it left no words; then ``before``."""
    return after if WORD.search(after) else before
