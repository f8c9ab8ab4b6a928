"""Jira's CSV export in the UI's language: its column names and month abbreviations in English.

Jira writes the export's header and its dates (``05/set/23 9:50 AM``, ``12/déc./23 14:05``,
``3/Mär/24``) in the exporting user's language. ``english_header`` maps the field names of
the languages Jira ships widely — Portuguese, Spanish, French, German, Italian, Dutch and
Japanese — onto the English ones the reader knows (the names below are Jira's own UI
strings; a custom field's ``Campo personalizado (Request Type)`` becomes ``Custom field
(Request Type)``). ``english_date`` replaces a localised month by its English abbreviation;
the month names come from the Unicode CLDR through Babel (abbreviated and wide, format and
stand-alone, with and without their dots, and the three-letter cut of the wide name as
older Java runtimes wrote it), so no month list is written by hand. A header in another
language is left as it is: the reader then says, as for any file, which column to map.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LOCALES = ("en", "pt_BR", "pt_PT", "es", "fr", "de", "it", "nl", "ja")
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# English field name -> its names in Jira's pt, es, fr, de, it, nl and ja UIs (and variants
# of older releases). Compared ignoring case, accents, spaces and separators.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "Summary": ("Resumo", "Resumen", "Résumé", "Zusammenfassung", "Riepilogo", "Samenvatting", "要約"),
    "Issue key": ("Chave da item", "Chave do item", "Chave da issue", "Chave do ticket", "Clave de incidencia",
                  "Clave", "Clé de ticket", "Clé", "Clé de demande", "Vorgangsschlüssel", "Schlüssel",
                  "Chiave ticket", "Chiave", "Chiave del ticket", "Issuesleutel", "Sleutel", "課題キー", "キー"),
    "Issue id": ("ID da item", "ID do item", "ID de la incidencia", "ID de ticket", "Vorgangs-ID", "ID ticket",
                 "Issue-id", "課題 ID", "課題ID"),
    "Issue Type": ("Tipo de item", "Tipo de issue", "Tipo de incidencia", "Type de ticket", "Type de demande",
                   "Vorgangstyp", "Tipo di ticket", "Tipo ticket", "Issuetype", "Type issue", "課題タイプ"),
    "Status": ("Estado", "État", "Statut", "Stato", "ステータス"),
    "Priority": ("Prioridade", "Prioridad", "Priorité", "Priorität", "Priorità", "Prioriteit", "優先度"),
    "Resolution": ("Resolução", "Resolución", "Résolution", "Lösung", "Risoluzione", "Oplossing", "解決状況"),
    "Assignee": ("Responsável", "Responsable", "Zugewiesene Person", "Bearbeiter", "Assegnatario",
                 "Toegewezen aan", "Behandelaar", "担当者"),
    "Reporter": ("Relator", "Informador", "Informante", "Rapporteur", "Autor", "Melder", "Segnalatore",
                 "Richiedente", "報告者"),
    "Creator": ("Criador", "Creador", "Créateur", "Ersteller", "Autore", "Maker", "作成者"),
    "Created": ("Criado", "Criada", "Creada", "Creado", "Création", "Créé", "Erstellt", "Creato", "Gemaakt",
                "Aangemaakt", "作成日", "作成日時"),
    "Updated": ("Atualizado", "Actualizada", "Actualizado", "Mise à jour", "Mis à jour", "Aktualisiert",
                "Aggiornato", "Bijgewerkt", "更新日", "更新日時"),
    "Resolved": ("Resolvido", "Resuelta", "Resuelto", "Résolue", "Résolu", "Erledigt", "Gelöst", "Risolto",
                 "Opgelost", "解決日", "解決日時"),
    "Last Viewed": ("Última visualização", "Última visualización", "Dernière consultation", "Zuletzt angesehen",
                    "Ultima visualizzazione", "Laatst bekeken", "最終閲覧日"),
    "Due Date": ("Data de vencimento", "Fecha de vencimiento", "Date d'échéance", "Fälligkeitsdatum",
                 "Data di scadenza", "Vervaldatum", "期日"),
    "Labels": ("Rótulos", "Etiquetas", "Étiquettes", "Stichwörter", "Etiketten", "Etichette", "ラベル"),
    "Description": ("Descrição", "Descripción", "Description", "Beschreibung", "Descrizione", "Beschrijving", "説明"),
    "Comment": ("Comentar", "Comentário", "Comentario", "Commentaire", "Kommentar", "Commento", "Opmerking",
                "Reactie", "コメント"),
    "Component/s": ("Componentes", "Componente/s", "Composants", "Composant/s", "Komponenten", "Komponente/n",
                    "Componenti", "Componente/i", "Componenten", "Component(en)", "コンポーネント"),
    "Affects Version/s": ("Versões afetadas", "Afeta versão/ões", "Afeta versões", "Versión/es afectada/s",
                          "Versiones afectadas", "Version(s) affectée(s)", "Affecte la/les version(s)",
                          "Betroffene Versionen", "Betroffene Version/en", "Versioni interessate",
                          "Versione/i interessata/e", "Betreft versie(s)", "Betreffende versie(s)",
                          "影響バージョン"),
    "Fix Version/s": ("Versões corrigidas", "Versão(ões) de correção", "Versión/es corregida/s",
                      "Versiones corregidas", "Version(s) corrigée(s)", "Lösungsversionen", "Lösungsversion/en",
                      "Versioni correzione", "Versione/i correzione", "Oplossingsversie(s)", "修正バージョン"),
    "Project key": ("Chave do projeto", "Clave de proyecto", "Clé du projet", "Clé de projet",
                    "Projektschlüssel", "Chiave progetto", "Projectsleutel", "プロジェクト キー", "プロジェクトキー"),
    "Project name": ("Nome do projeto", "Nombre del proyecto", "Nom du projet", "Projektname", "Nome progetto",
                     "Projectnaam", "プロジェクト名"),
    "Watchers": ("Observadores", "Observateurs", "Beobachter", "Osservatori", "Volgers", "ウォッチャー"),
    "Sprint": ("スプリント",),
    "Organizations": ("Organizações", "Organizaciones", "Organisations", "Organisationen", "Organizzazioni",
                      "Organisaties", "組織"),
}
CUSTOM_FIELD = ("Custom field", "Campo personalizado", "Champ personnalisé", "Benutzerdefiniertes Feld",
                "Campo personalizzato", "Aangepast veld", "カスタム フィールド", "カスタムフィールド")
CUSTOM = re.compile(r"^\s*(.+?)\s*\((.+)\)\s*$")
MERIDIEM = {"午前": "AM", "午後": "PM", "a. m.": "AM", "p. m.": "PM", "a.m.": "AM", "p.m.": "PM"}
LOCALISED_DATE = re.compile(r"^(\d{1,2})/([^\W\d_][^/\s]*|\d{1,2}月)/(\d{2}|\d{4})\b(.*)$")


def key(name: str) -> str:
    """A name compared ignoring case, accents, spaces and separators (``Descrição`` = ``descricao``)."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-.()/'’]+", "", folded)


@lru_cache(maxsize=1)
def _headers() -> dict[str, str]:
    table = {key(english): english for english in FIELD_NAMES}
    for english, names in FIELD_NAMES.items():
        for name in names:
            table.setdefault(key(name), english)
    return table


def english_header(name: str) -> str:
    """A Jira column name in English: a known localised field name, ``Custom field (…)``
    for a localised custom field, else the name as written."""
    found = _headers().get(key(name))
    if found is not None:
        return found if key(found) != key(name) else name
    custom = CUSTOM.match(name)
    if custom and key(custom.group(1)) in {key(c) for c in CUSTOM_FIELD}:
        return f"Custom field ({custom.group(2)})"
    return name


@lru_cache(maxsize=1)
def month_numbers() -> dict[str, int]:
    """Localised month names and abbreviations (CLDR, through Babel) -> month number; a
    token two languages give different months is left out."""
    from babel.dates import get_month_names

    found: dict[str, set[int]] = {}
    for locale in LOCALES:
        for width in ("abbreviated", "wide"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context=context, locale=locale).items():
                    for token in {name, name.rstrip("."), name[:3] if width == "wide" else name}:
                        found.setdefault(key(token), set()).add(number)
    return {token: next(iter(months)) for token, months in found.items() if token and len(months) == 1}


def english_date(text: str) -> str:
    """``05/set/23 9:50 AM`` → ``05/Sep/23 9:50 AM``; ``12/déc./23`` → ``12/Dec/23``; other text unchanged."""
    value = " ".join(text.split())
    match = LOCALISED_DATE.match(value)
    if not match:
        return text
    number = month_numbers().get(key(match.group(2)))
    if number is None:
        return text
    rest = match.group(4)
    for local, english in MERIDIEM.items():
        rest = rest.replace(local, english)
    if rest.strip().startswith(("AM", "PM")):          # Japanese writes 午前 9:50
        meridiem, _, clock = rest.strip().partition(" ")
        rest = f" {clock} {meridiem}"
    return f"{match.group(1)}/{ENGLISH_MONTHS[number - 1]}/{match.group(3)}{rest}"
