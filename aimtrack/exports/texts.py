"""Texts of the register export (CSV and PDF) in Dutch and English: a catalogue of
``{key: (dutch, english)}`` like every other (:mod:`aimtrack.core.i18n`)."""

from __future__ import annotations

from typing import Final

from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import CompetitionType, Language, WeaponType

TEXTS: Final[Catalogue] = {
    # --- table columns (CSV header row and PDF table head) ---
    "col.date": ("Datum", "Date"),
    "col.start": ("Aanvang", "Start"),
    "col.club": ("Vereniging/baan", "Club/range"),
    "col.location": ("Locatie", "Location"),
    "col.discipline": ("Discipline", "Discipline"),
    "col.weapon": ("Wapen", "Weapon"),
    "col.type": ("Soort", "Type"),
    "col.caliber": ("Kaliber", "Caliber"),
    "col.serial": ("Serienummer", "Serial number"),
    "col.distance": ("Afstand (m)", "Distance (m)"),
    "col.shots": ("Schoten", "Shots"),
    "col.ammunition": ("Munitie", "Ammunition"),
    "col.score": ("Score", "Score"),
    "col.competition": ("Wedstrijd", "Competition"),
    "col.initials": ("Paraaf vereniging", "Club initials"),
    # --- values ---
    "type.pistol": ("Pistool", "Pistol"),
    "type.revolver": ("Revolver", "Revolver"),
    "type.rifle": ("Geweer", "Rifle"),
    "type.carbine": ("Karabijn", "Carbine"),
    "type.shotgun": ("Hagelgeweer", "Shotgun"),
    "type.air_pistol": ("Luchtpistool", "Air pistol"),
    "type.air_rifle": ("Luchtgeweer", "Air rifle"),
    "type.other": ("Anders", "Other"),
    "competition.none": ("geen", "none"),
    "competition.club": ("vereniging", "club"),
    "competition.knsa": ("KNSA", "KNSA"),
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
    "all_weapons": ("alle wapens", "all weapons"),
    # --- header ---
    "title": ("Schietregister — eigen overzicht", "Shooting register — own overview"),
    "name": ("Naam", "Name"),
    "knsa_number": ("KNSA-lidnummer", "KNSA number"),
    "own_club": ("Vereniging", "Club"),
    "licence_number": ("Verlofnummer", "Licence number"),
    "licence_expiry": ("Verlof geldig tot", "Licence valid until"),
    "period": ("Periode", "Period"),
    "period_value": ("{first} t/m {last}", "{first} to {last}"),
    "generated_at": ("Gemaakt op", "Generated at"),
    "weapons": ("Wapens", "Weapons"),
    "disclaimer": (
        "Dit is een zelf bijgehouden overzicht uit AimTrack, niet het officiële schietregister. "
        "Het register van de vereniging of van de KNSA is leidend; de schutter blijft zelf "
        "verantwoordelijk voor een juist en volledig register.",
        "This is a self-kept overview from AimTrack, not the official shooting register. The "
        "register of the club or of the KNSA is leading; the shooter remains responsible for a "
        "correct and complete register.",
    ),
    "footer": (
        "Zelf bijgehouden overzicht (AimTrack), niet het officiële register",
        "Self-kept overview (AimTrack), not the official register",
    ),
    "page": ("pagina {page} van {pages}", "page {page} of {pages}"),
    "running_head": ("Schietregister {name} — {period}", "Shooting register {name} — {period}"),
    # --- summary ---
    "summary": ("Samenvatting", "Summary"),
    "sessions_heading": ("Sessies", "Sessions"),
    "no_rows": ("Geen sessies in deze periode.", "No sessions in this period."),
    "licence_days": (
        "Schietdagen in de 12 maanden van {first} t/m {last}",
        "Shooting days in the 12 months from {first} to {last}",
    ),
    "of_required": ("van de {required}", "of {required}"),
    "licence_line": (
        "Schietdagen in de 12 maanden van {first} t/m {last}: {days} van de {required} ({status})",
        "Shooting days in the 12 months from {first} to {last}: {days} of {required} ({status})",
    ),
    "licence_met": ("voldaan", "met"),
    "licence_short": ("nog {short} nodig", "{short} more needed"),
    "oldest_line": (
        "Oudste dag in dit venster: {day}; die telt niet meer mee vanaf {leaves}.",
        "Oldest day in this window: {day}; it no longer counts from {leaves}.",
    ),
    "totals": ("In de periode", "In the period"),
    "totals_line": (
        "In de periode: {days:# schietdag|# schietdagen}, {sessions:# sessie|# sessies}, "
        "{rows:# regel|# regels}, {shots:# schot|# schoten} "
        "(van de gekozen wapens).",
        "In the period: {days:# shooting day|# shooting days}, {sessions:# session|# sessions}, "
        "{rows:# row|# rows}, {shots:# shot|# shots} "
        "(of the selected weapons).",
    ),
    "days_label": ("Schietdagen", "Shooting days"),
    "sessions_label": ("Sessies", "Sessions"),
    "rows_label": ("Regels", "Rows"),
    "shots_label": ("Schoten", "Shots"),
    "per_weapon": ("Gebruik per wapen", "Use per weapon"),
    "per_weapon_none": (
        "Geen gebruik van de gekozen wapens in deze periode.",
        "No use of the selected weapons in this period.",
    ),
    "col.days": ("Dagen", "Days"),
    "competitions": (
        "Wedstrijden per kalenderjaar (plicht: {knsa} KNSA of {club} vereniging)",
        "Competitions per calendar year (duty: {knsa} KNSA or {club} club)",
    ),
    "competitions_csv": ("Wedstrijden per kalenderjaar", "Competitions per calendar year"),
    "col.year": ("Jaar", "Year"),
    "col.covered": ("Deel van het jaar", "Part of the year"),
    "col.knsa": ("KNSA", "KNSA"),
    "col.club_matches": ("Vereniging", "Club"),
    "col.status": ("Status", "Status"),
    "whole_year": ("hele jaar", "whole year"),
    "part_year": ("alleen {first} t/m {last}", "only {first} to {last}"),
    "year_met": ("voldaan", "met"),
    "year_not_met": ("niet voldaan", "not met"),
    "year_not_met_part": (
        "niet voldaan (in dit deel van het jaar)",
        "not met (in this part of the year)",
    ),
    "unused": ("Wapens op verlof zonder gebruik", "Licensed weapons without use"),
    "unused_none": ("geen", "none"),
    "unused_weapon": ("{name} ({details})", "{name} ({details})"),
    "serial_short": ("serienr. {serial}", "serial {serial}"),
    "gap": ("Langste onderbreking", "Longest gap"),
    "gap_line": (
        "{days:# dag|# dagen}, van {after} tot {before}",
        "{days:# day|# days}, from {after} to {before}",
    ),
    "gap_line_one": (
        "{days} dag, van {after} tot {before}",
        "{days} day, from {after} to {before}",
    ),
    "gap_csv": ("Langste onderbreking (dagen)", "Longest gap (days)"),
    "gap_none": (
        "geen (minder dan twee schietdagen in de periode)",
        "none (fewer than two shooting days in the period)",
    ),
    "days_unit": ("dagen", "days"),
    "note": ("Let op", "Note"),
}


def translator(language: Language) -> Translator:
    return Translator(TEXTS, language)


def weapon_type(t: Translator, kind: WeaponType) -> str:
    return t(f"type.{kind.value}")


def competition(t: Translator, kind: CompetitionType) -> str:
    return t(f"competition.{kind.value}")
