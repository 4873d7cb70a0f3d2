"""Texts of the session flows (guided, quick entry, photo now), Dutch and English."""

from __future__ import annotations

from typing import Final

from aimtrack.core.i18n import Catalogue

TEXTS: Final[Catalogue] = {
    "session.header": ("Sessie {date} · {club}", "Session {date} · {club}"),
    "session.no_club": ("geen vereniging", "no club"),
    "session.entry_line": (
        "{weapon} — {distance} m, {shots:# schot|# schoten}",
        "{weapon} — {distance} m, {shots:# shot|# shots}",
    ),
    "session.ask_weapon": ("Welk wapen?", "Which weapon?"),
    "session.ask_first_weapon": (
        "Met welk wapen schoot je? Typ de naam; ik voeg het toe aan je wapens.",
        "Which weapon did you shoot? Type its name; I'll add it to your weapons.",
    ),
    "session.unknown_weapon": (
        "'{name}' staat niet bij je wapens. Toevoegen, of kies een wapen:",
        "'{name}' is not one of your weapons. Add it, or pick a weapon:",
    ),
    "session.add_weapon": ("➕ '{name}' toevoegen", "➕ Add '{name}'"),
    "session.weapon_added": ("Wapen '{name}' toegevoegd.", "Weapon '{name}' added."),
    "session.bad_weapon_name": (
        "Typ de naam van het wapen (hooguit 100 tekens).",
        "Type the weapon's name (100 characters at most).",
    ),
    "session.change_club": ("🏠 Vereniging", "🏠 Club"),
    "session.today": ("📅 Vandaag", "📅 Today"),
    "session.yesterday": ("📅 Gisteren", "📅 Yesterday"),
    "session.other_date": ("📅 Andere datum", "📅 Other date"),
    "session.to_menu": ("✓ Klaar met wapens", "✓ Done with weapons"),
    "session.ask_distance": (
        "Afstand met {weapon}? Kies of typ het aantal meters.",
        "Distance with {weapon}? Pick or type the metres.",
    ),
    "session.bad_distance": (
        "Typ de afstand als getal in meters, bijvoorbeeld 25.",
        "Type the distance as a number of metres, for example 25.",
    ),
    "session.distance_range": (
        "Een afstand ligt tussen 1 en 2000 meter.",
        "A distance is between 1 and 2000 metres.",
    ),
    "session.ask_shots": (
        "{weapon} op {distance} m: aantal schoten en score, bijvoorbeeld '50 431' (score mag weg).",
        "{weapon} at {distance} m: shots and score, for example '50 431' (score is optional).",
    ),
    "session.bad_shots": (
        "Typ het aantal schoten en eventueel de score, bijvoorbeeld '50 431' of '50'.",
        "Type the number of shots and optionally the score, for example '50 431' or '50'.",
    ),
    "session.shots_range": (
        "Het aantal schoten ligt tussen 1 en 10000.",
        "The number of shots is between 1 and 10000.",
    ),
    "session.score_range": (
        "Die score kan niet: hooguit 10,9 per schot en één decimaal.",
        "That score is not possible: at most 10.9 a shot and one decimal.",
    ),
    "session.too_many_entries": (
        "Een sessie heeft hooguit 20 wapenregels.",
        "A session has 20 weapon lines at most.",
    ),
    "session.more": ("➕ Nog een wapen", "➕ Another weapon"),
    "session.photo": ("📷 Foto", "📷 Photo"),
    "session.notes": ("📝 Notities", "📝 Notes"),
    "session.remove": ("✗ Regel weghalen", "✗ Remove a line"),
    "session.save": ("✓ Opslaan", "✓ Save"),
    "session.edit": ("✎ Wijzigen", "✎ Edit"),
    "session.cancel": ("✗ Annuleren", "✗ Cancel"),
    "session.done": ("Klaar", "Done"),
    "session.ask_club": (
        "Waar heb je geschoten? Kies of typ de naam.",
        "Where did you shoot? Pick or type the name.",
    ),
    "session.bad_club": (
        "Typ de naam van de vereniging of baan (hooguit 200 tekens).",
        "Type the name of the club or range (200 characters at most).",
    ),
    "session.ask_date": (
        "Welke datum? Typ bijvoorbeeld 21-11 of 21-11-2026.",
        "Which date? Type for example 21-11 or 21-11-2026.",
    ),
    "session.ask_quick_date": (
        "Die datum kon ik niet gebruiken. Welke dag was het? Kies of typ bijvoorbeeld 21-11.",
        "I couldn't use that date. Which day was it? Pick or type for example 21-11.",
    ),
    "session.bad_date": (
        "Dat is geen datum die ik ken. Typ bijvoorbeeld 21-11 of 21-11-2026.",
        "That is not a date I know. Type for example 21-11 or 21-11-2026.",
    ),
    "session.future_date": (
        "Die datum ligt in de toekomst.",
        "That date is in the future.",
    ),
    "session.ask_photo": (
        "Stuur de foto('s) van je kaart (of een pdf van de scorekaart).",
        "Send the photo(s) of your target (or a PDF of the score card).",
    ),
    "session.photo_added": ("📷 Foto toegevoegd ({count}).", "📷 Photo added ({count})."),
    "session.photo_added_draft": (
        "📷 Foto toegevoegd aan het concept.",
        "📷 Photo added to the draft.",
    ),
    "session.too_many_photos": (
        "Een sessie heeft hooguit 20 foto's.",
        "A session has 20 photos at most.",
    ),
    "session.ask_notes": (
        "Typ je notities of reflectie.",
        "Type your notes or reflection.",
    ),
    "session.notes_too_long": (
        "Notities zijn hooguit {limit} tekens; er is niets van veranderd.",
        "Notes are {limit} characters at most; nothing was changed.",
    ),
    "session.notes_line": ("📝 {notes}", "📝 {notes}"),
    "session.photos": ("📷 {count:# foto|# foto's}", "📷 {count:# photo|# photos}"),
    "session.ask_remove": ("Welke regel weghalen?", "Which line should go?"),
    "session.no_entries": (
        "Voeg eerst minstens één wapen toe.",
        "Add at least one weapon first.",
    ),
    "session.saved": (
        "✓ Opgeslagen: {date} · {club}\n{entries}\n📷 {photos:# foto|# foto's}\n\n"
        "Je reflectie op deze sessie komt zo als apart bericht.",
        "✓ Saved: {date} · {club}\n{entries}\n📷 {photos:# photo|# photos}\n\n"
        "Your reflection on this session will arrive shortly as a separate message.",
    ),
    "session.record": (
        "🏆 Persoonlijk record met {weapon} op {distance} m: {per_shot} per schot ({score} uit "
        "{shots}); je beste was {before}.",
        "🏆 Personal best with {weapon} at {distance} m: {per_shot} per shot ({score} from "
        "{shots}); your best was {before}.",
    ),
    "session.streak": (
        "🔥 {weeks:# week|# weken} op rij geschoten. Zo houd je je verlof makkelijk op peil.",
        "🔥 {weeks:# week|# weeks} in a row. That keeps your licence days easily on track.",
    ),
    "session.cancelled_draft": (
        "Geannuleerd. Het concept blijft bewaard; /sessie gaat verder.",
        "Cancelled. The draft is kept; /session continues it.",
    ),
    "session.photo_now": (
        "📷 Bewaard bij een nieuwe conceptsessie van {date}. Nu de details invullen, of later "
        "met /sessie?",
        "📷 Kept with a new draft session of {date}. Fill in the details now, or later with "
        "/session?",
    ),
    "session.fill_now": ("Nu invullen", "Fill in now"),
    "session.later": ("Later", "Later"),
    "session.kept_for_later": (
        "Prima. Het concept staat klaar; /sessie gaat verder.",
        "Fine. The draft is waiting; /session continues it.",
    ),
    "session.resume": (
        "Je hebt een concept van {date} met {photos:# foto|# foto's}. Aanvullen of een nieuwe "
        "sessie?",
        "You have a draft of {date} with {photos:# photo|# photos}. Complete it or start a new "
        "session?",
    ),
    "session.resume_yes": ("Concept aanvullen", "Complete the draft"),
    "session.resume_new": ("Nieuwe sessie", "New session"),
    "session.confirm": (
        "{summary}\n\nKlopt dit?",
        "{summary}\n\nIs this right?",
    ),
    "session.which_weapon": (
        "Welk wapen bedoel je met '{name}'?",
        "Which weapon do you mean by '{name}'?",
    ),
    "session.unknown_quick_weapon": (
        "'{name}' staat niet bij je wapens. Kies er een, of voeg het toe:",
        "'{name}' is not one of your weapons. Pick one, or add it:",
    ),
    "session.no_quick_weapon": (
        "Met welk wapen schoot je '{line}'?",
        "Which weapon did you shoot '{line}' with?",
    ),
    "session.use_buttons": (
        "Kies met de knoppen hierboven, of /annuleer.",
        "Pick with the buttons above, or /cancel.",
    ),
}
