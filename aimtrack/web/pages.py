"""The web page's HTML, server-rendered in Dutch or English; no scripts, one stylesheet.

Every value from the database goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape
from typing import Final

from aimtrack.core import formatting
from aimtrack.core.i18n import Catalogue, Translator, build_catalogue
from aimtrack.core.model import Language, SessionStatus, ShootingSession, Weapon
from aimtrack.exports.service import NamedPeriod

STYLESHEET: Final = "/web/static/style.css"

TEXTS: Final[Catalogue] = {
    "page.title": ("AimTrack", "AimTrack"),
    "page.sessions": ("Je sessies", "Your sessions"),
    "page.none": ("Nog geen sessies.", "No sessions yet."),
    "page.col.date": ("Datum", "Date"),
    "page.col.place": ("Waar", "Where"),
    "page.col.weapons": ("Wapens", "Weapons"),
    "page.col.shots": ("Schoten", "Shots"),
    "page.col.score": ("Score", "Score"),
    "page.draft": ("(concept)", "(draft)"),
    "page.newer": ("← Nieuwer", "← Newer"),
    "page.older": ("Ouder →", "Older →"),
    "page.number": ("Pagina {n}", "Page {n}"),
    "export.title": ("Register exporteren", "Export the register"),
    "export.period": ("Periode", "Period"),
    "export.last12": ("Afgelopen 12 maanden", "Last 12 months"),
    "export.this_year": ("Dit kalenderjaar", "This calendar year"),
    "export.last_year": ("Vorig kalenderjaar", "Last calendar year"),
    "export.custom": ("Zelf kiezen:", "Choose dates:"),
    "export.from": ("van", "from"),
    "export.to": ("tot en met", "to"),
    "export.weapons": ("Wapens", "Weapons"),
    "export.all": ("Alle wapens", "All weapons"),
    "export.some": ("Alleen deze:", "Only these:"),
    "export.retired": ("(uit gebruik)", "(retired)"),
    "export.format": ("Formaat", "Format"),
    "export.submit": ("Downloaden", "Download"),
    "back": ("Terug naar je pagina", "Back to your page"),
    "reload": ("Verder naar je pagina", "On to your page"),
    "error.title": ("Dat lukte niet", "That did not work"),
    "link.bad": (
        "Deze link is niet geldig. Vraag in de chat een nieuwe met /web.",
        "This link is not valid. Ask for a new one in the chat with /web.",
    ),
    "link.expired": (
        "Deze link is verlopen: een link werkt 15 minuten. Vraag in de chat een nieuwe met /web.",
        "This link has expired: a link works for 15 minutes. Ask for a new one in the chat "
        "with /web.",
    ),
    "link.used": (
        "Deze link is al gebruikt: een link werkt één keer. Vraag in de chat een nieuwe met /web.",
        "This link has been used already: a link works once. Ask for a new one in the chat "
        "with /web.",
    ),
    "link.refused": (
        "Je hebt geen toegang (meer) tot deze AimTrack.",
        "You do not have access to this AimTrack (any more).",
    ),
    "session.none": (
        "Je bent niet (meer) aangemeld. Vraag in de chat een nieuwe link met /web.",
        "You are not signed in (any more). Ask for a new link in the chat with /web.",
    ),
    "csrf": (
        "Dit formulier is verlopen of komt niet van je pagina. Laad de pagina opnieuw.",
        "This form has expired or did not come from your page. Reload the page.",
    ),
    "weapon.not_yours": (
        "Een van de gekozen wapens staat niet in jouw register.",
        "One of the chosen weapons is not in your register.",
    ),
    "not_set_up": (
        "De webpagina is niet ingesteld: zet AIMTRACK_SECRET_KEY.",
        "The web page is not set up: set AIMTRACK_SECRET_KEY.",
    ),
    "not_found": ("Deze pagina bestaat niet.", "This page does not exist."),
    "too_large": ("Dat verzoek is te groot.", "That request is too large."),
    "form.period": ("Kies een periode.", "Choose a period."),
    "form.date.from": (
        "De begindatum is geen datum (gebruik JJJJ-MM-DD).",
        "The start date is not a date (use YYYY-MM-DD).",
    ),
    "form.date.to": (
        "De einddatum is geen datum (gebruik JJJJ-MM-DD).",
        "The end date is not a date (use YYYY-MM-DD).",
    ),
    "form.order": (
        "De begindatum ligt na de einddatum.",
        "The start date is after the end date.",
    ),
    "form.span": (
        "Een periode mag hoogstens {years} jaar lang zijn.",
        "A period may be at most {years} years long.",
    ),
    "form.range": (
        "Datums moeten tussen {earliest} en {latest} liggen.",
        "Dates must lie between {earliest} and {latest}.",
    ),
    "form.format": ("Kies CSV of PDF.", "Choose CSV or PDF."),
    "form.no_weapons": (
        "Kies minstens één wapen, of 'Alle wapens'.",
        "Choose at least one weapon, or 'All weapons'.",
    ),
    "form.too_many_weapons": ("Dat zijn te veel wapens.", "Those are too many weapons."),
    "form.weapon": ("Dat wapen ken ik niet.", "I don't know that weapon."),
    "form.page": ("Dat paginanummer bestaat niet.", "That page number does not exist."),
}

CATALOGUE: Final = build_catalogue(TEXTS)

CSS: Final = b"""\
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; }
td.num, th.num { text-align: right; }
fieldset { border: 1px solid #ccc; margin: 0 0 1rem; padding: .5rem 1rem; }
label { display: block; margin: .25rem 0; }
label.pick { margin-left: 1.5rem; }
nav a { margin-right: 1rem; }
.error { background: #fde8e8; border: 1px solid #e0a0a0; padding: 1rem; }
button { font-size: 1rem; padding: .4rem 1.2rem; }
"""


def translator(language: Language) -> Translator:
    return Translator(CATALOGUE, language)


def document(t: Translator, body: str, *, head: str = "") -> str:
    return (
        f'<!doctype html>\n<html lang="{t.language.value}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="referrer" content="no-referrer">{head}'
        f"<title>{escape(t('page.title'))}</title>"
        f'<link rel="stylesheet" href="{STYLESHEET}"></head>'
        f"<body><main>{body}</main></body></html>\n"
    )


def reload_page(t: Translator, path: str) -> str:
    """A page that loads ``path`` again at once, as a navigation of our own origin."""
    return document(
        t,
        f'<p><a href="{escape(path)}">{escape(t("reload"))}</a></p>',
        head=f'<meta http-equiv="refresh" content="0; url={escape(path)}">',
    )


def message_page(t: Translator, key: str, *, back: bool = False, **values: object) -> str:
    """A page that says one thing: why a link or a form did not work."""
    link = f'<p><a href="/web">{escape(t("back"))}</a></p>' if back else ""
    return document(
        t,
        f"<h1>{escape(t('error.title'))}</h1>"
        f'<p class="error" role="alert">{escape(t(key, **values))}</p>{link}',
    )


@dataclass(frozen=True, slots=True)
class PageData:
    sessions: Sequence[ShootingSession]
    weapons: Sequence[Weapon]  # every weapon of the user, retired ones too
    page: int
    has_older: bool
    csrf: str
    today: date


def main_page(t: Translator, data: PageData) -> str:
    return document(
        t,
        f"<h1>{escape(t('page.sessions'))}</h1>"
        + _sessions(t, data)
        + f"<h2>{escape(t('export.title'))}</h2>"
        + _export_form(t, data),
    )


def _sessions(t: Translator, data: PageData) -> str:
    names = {w.id: w.name for w in data.weapons}
    if not data.sessions:
        table = f"<p>{escape(t('page.none'))}</p>"
    else:
        head = "".join(
            f"<th{' class=num' if key in {'shots', 'score'} else ''}>"
            f"{escape(t(f'page.col.{key}'))}</th>"
            for key in ("date", "place", "weapons", "shots", "score")
        )
        rows = "".join(_session_row(t, s, names) for s in data.sessions)
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    links = []
    if data.page > 1:
        newer = escape(t("page.newer"))
        links.append(f'<a href="/web?page={data.page - 1}" rel="prev">{newer}</a>')
    links.append(f"<span>{escape(t('page.number', n=data.page))}</span>")
    if data.has_older:
        older = escape(t("page.older"))
        links.append(f'<a href="/web?page={data.page + 1}" rel="next">{older}</a>')
    return f"{table}<nav>{''.join(links)}</nav>"


def _session_row(t: Translator, session: ShootingSession, names: dict[int, str]) -> str:
    weapons = list(dict.fromkeys(names.get(e.weapon_id, "?") for e in session.entries))
    place = ", ".join(p for p in (session.club, session.location) if p)
    if session.status is SessionStatus.DRAFT:
        place = f"{place} {t('page.draft')}".strip()
    shots = sum(e.shots for e in session.entries)
    scores = [e.score for e in session.entries if e.score is not None]
    score = formatting.score_in(sum(scores, Decimal(0)), t.language) if scores else ""
    cells = (
        f"<td>{formatting.register_day(session.occurred_on, t.language)}</td>",
        f"<td>{escape(place)}</td>",
        f"<td>{escape(', '.join(weapons))}</td>",
        f'<td class="num">{shots or ""}</td>',
        f'<td class="num">{escape(score)}</td>',
    )
    return f"<tr>{''.join(cells)}</tr>"


def _export_form(t: Translator, data: PageData) -> str:
    periods = "".join(
        _radio("period", code, t(f"export.{code}"), checked=code is NamedPeriod.LAST_12_MONTHS)
        for code in NamedPeriod
    )
    custom = (
        "<label>"
        '<input type="radio" name="period" value="custom"> '
        f"{escape(t('export.custom'))} "
        f"{escape(t('export.from'))} "
        f'<input type="date" name="from" value="{data.today.replace(month=1, day=1)}"> '
        f"{escape(t('export.to'))} "
        f'<input type="date" name="to" value="{data.today}">'
        "</label>"
    )
    weapons = _radio("weapons", "all", t("export.all"), checked=True)
    if data.weapons:
        weapons += _radio("weapons", "some", t("export.some"), checked=False)
        for weapon in data.weapons:
            label = weapon.name
            if weapon.retired_on is not None:
                label = f"{label} {t('export.retired')}"
            weapons += (
                f'<label class="pick"><input type="checkbox" name="weapon" value="{weapon.id}"> '
                f"{escape(label)}</label>"
            )
    formats = _radio("format", "pdf", "PDF", checked=True) + _radio(
        "format", "csv", "CSV", checked=False
    )
    return (
        '<form method="post" action="/web/export">'
        f'<input type="hidden" name="csrf" value="{escape(data.csrf)}">'
        f"<fieldset><legend>{escape(t('export.period'))}</legend>{periods}{custom}</fieldset>"
        f"<fieldset><legend>{escape(t('export.weapons'))}</legend>{weapons}</fieldset>"
        f"<fieldset><legend>{escape(t('export.format'))}</legend>{formats}</fieldset>"
        f'<button type="submit">{escape(t("export.submit"))}</button>'
        "</form>"
    )


def _radio(name: str, value: str, label: str, *, checked: bool) -> str:
    mark = " checked" if checked else ""
    return (
        f'<label><input type="radio" name="{name}" value="{value}"{mark}> {escape(label)}</label>'
    )
