"""The coordinators' console (issue 15): the pure parts. Who is signed in, what a staff form asks
the services for, the audit log of five services as one list, the dashboard's charts as numbers.
No Flask, no HTTP here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from shared.tokens import STAFF_ROLES

from services.portal.domain import N_

ROLE_LABELS = {
    "coordinator": N_("Coordinator"),
    "working_group": N_("Working group"),
    "ambassador": N_("Learning ambassador"),
    "translator": N_("Translator"),
}
CLINIC_KINDS = ("monthly", "regional", "thematic")
AUDITED_SERVICES = ("registry", "matcher", "scheduler", "notifier", "resources")


@dataclass(frozen=True)
class StaffMember:
    """The bearer of the console's cookie, as its signed token says."""

    staff_id: str
    roles: frozenset[str]
    name: str | None = None

    def may(self, *roles: str) -> bool:
        return "coordinator" in self.roles or any(role in self.roles for role in roles)


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.fields)


def chosen_roles(values: list[str]) -> list[str]:
    return [role for role in STAFF_ROLES if role in set(values)]


def staff_body(form: dict[str, list[str]]) -> tuple[dict, FormErrors]:
    """POST /staff's body from the console's form (the registry checks it again)."""
    errors = FormErrors()
    email = (form.get("email") or [""])[0].strip()
    name = (form.get("name") or [""])[0].strip()
    roles = chosen_roles(form.get("roles", []))
    if "@" not in email or len(email) > 254:
        errors.add("email", N_("Enter the person's email address."))
    if not roles:
        errors.add("roles", N_("Choose at least one role."))
    return {"email": email, "roles": roles, **({"name": name[:200]} if name else {})}, errors


def suggestion_day(value: str | None, today: date) -> date:
    """The day slots are suggested for: the form's, else two weeks ahead."""
    try:
        chosen = date.fromisoformat(value) if value else None
    except ValueError:
        chosen = None
    return chosen if chosen and chosen > today else today + timedelta(days=14)


def clinic_body(form: dict[str, list[str]]) -> tuple[dict, FormErrors]:
    """POST /clinics's body from the console's form: one or two of the suggested slots."""
    errors = FormErrors()
    first = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
    title, topic, language = first("title"), first("topic"), first("language") or "en"
    kind = first("kind") if first("kind") in CLINIC_KINDS else "monthly"
    if len(title) < 3:
        errors.add("title", N_("Give the clinic a title (at least three characters)."))
    if not topic:
        errors.add("topic", N_("Choose a topic."))
    slots = []
    for value in form.get("slot", [])[:2]:
        start, _, minutes = value.partition("|")
        try:
            parsed = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(timezone.utc)
            slots.append({"start": parsed.isoformat().replace("+00:00", "Z"), "minutes": int(minutes or 90)})
        except ValueError:
            continue
    if not slots:
        errors.add("slot", N_("Choose one or two of the suggested times."))
    try:
        seats = max(1, min(1000, int(first("seats") or 20)))
    except ValueError:
        seats = 20
        errors.add("seats", N_("Seats must be a number."))
    interpretation = [code for code in form.get("interpretation", []) if code and code != language][:6]
    body = {"kind": kind, "title": title, "description": first("description"), "topics": [topic],
            "slots": slots, "language": language, "interpretation": interpretation, "seats": seats,
            "sharers": [s for s in (p.strip() for p in first("sharers").split(",")) if s][:10]}
    return body, errors


def merged_audit(per_service: dict[str, list[dict]], names: dict[str, str]) -> list[dict]:
    """The five services' audit records as one list, newest first, each with its service and the
    name of the person who acted (their id when the account was removed or is a machine token)."""
    merged = []
    for service, records in per_service.items():
        for record in records:
            actor = record.get("actor") or {}
            merged.append({**record, "service": service,
                           "actor_name": names.get(actor.get("id", "")) or actor.get("id", "?")})
    return sorted(merged, key=lambda r: (str(r.get("at", "")), r.get("id", "")), reverse=True)


def bars(values: dict[str, float], width: int = 320) -> list[dict]:
    """A bar chart as numbers the template draws as SVG rectangles (attributes, no inline style)."""
    top = max(values.values(), default=0) or 1
    return [{"label": label, "value": value, "width": max(2, int(width * value / top)), "y": index * 26}
            for index, (label, value) in enumerate(values.items())]


# ----- participants' CSV export (the program's spreadsheets)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a
# cell is written with a leading apostrophe, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = ("id", "username", "name", "email", "languages", "timezone", "region", "group", "group_type",
                  "role", "purpose", "learns", "shares", "public_profile", "share_contact", "registered_at")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_row(profile: dict) -> list[str]:
    """One participant as a row of EXPORT_COLUMNS, every cell safe to open in a spreadsheet."""
    interests = profile.get("interests") or []
    group = profile.get("group") or {}
    consent = profile.get("consent") or {}
    values = {
        **{key: profile.get(key) for key in ("id", "username", "name", "email", "timezone", "region", "role",
                                             "purpose", "registered_at")},
        "languages": " ".join(profile.get("languages") or []),
        "group": group.get("name"), "group_type": group.get("type"),
        "learns": " ".join(i["topic"] for i in interests if i.get("direction") == "learn"),
        "shares": " ".join(i["topic"] for i in interests if i.get("direction") == "share"),
        "public_profile": "yes" if consent.get("public_profile") else "no",
        "share_contact": "yes" if consent.get("share_contact") else "no",
    }
    return [spreadsheet_safe(values[column]) for column in EXPORT_COLUMNS]


def search_filters(args: dict) -> dict:
    """The participants page's query string, kept to what the registry's search takes."""
    return {key: (args.get(key) or "").strip()[:100] or None
            for key in ("q", "topic", "direction", "language", "region", "group_type")}


# ----- learning spaces and clinic edits

SPACE_KINDS = ("community_of_practice", "periodic_meeting", "chat_group", "mentoring_program")


def space_body(form: dict[str, list[str]]) -> tuple[dict, FormErrors]:
    """POST /spaces's body from the console's form (the scheduler checks it again)."""
    errors = FormErrors()
    first = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
    kind = first("kind") if first("kind") in SPACE_KINDS else SPACE_KINDS[0]
    title, topic, link = first("title"), first("topic"), first("link")
    languages = [code for code in form.get("languages", []) if code][:10]
    if len(title) < 3:
        errors.add("title", N_("Give the space a title (at least three characters)."))
    if not topic:
        errors.add("topic", N_("Choose a topic."))
    if not languages:
        errors.add("languages", N_("Choose at least one language."))
    if not link.startswith(("https://", "http://")):
        errors.add("link", N_("Give the space's address (https://...)."))
    return {"kind": kind, "title": title, "description": first("description"), "topics": [topic] if topic else [],
            "languages": languages, "link": link}, errors


def space_changes(form: dict[str, list[str]], space: dict) -> tuple[dict, FormErrors]:
    """PATCH /spaces/{id}'s body from a space's edit form: only what changed (the scheduler checks
    it again)."""
    errors = FormErrors()
    first = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
    changes: dict = {}
    for name in ("title", "description", "link"):
        if name in form and first(name) != (space.get(name) or ""):
            changes[name] = first(name)
    if first("kind") in SPACE_KINDS and first("kind") != space.get("kind"):
        changes["kind"] = first("kind")
    if "languages" in form or "languages_shown" in form:
        languages = [code for code in form.get("languages", []) if code][:10]
        if languages != list(space.get("languages") or []):
            changes["languages"] = languages
    if "title" in changes and len(changes["title"]) < 3:
        errors.add("title", N_("Give the space a title (at least three characters)."))
    if "link" in changes and not changes["link"].startswith(("https://", "http://")):
        errors.add("link", N_("Give the space's address (https://...)."))
    if "languages" in changes and not changes["languages"]:
        errors.add("languages", N_("Choose at least one language."))
    return changes, errors


def slot_input(start: str) -> str:
    """A slot's UTC start as a datetime-local field shows it (2026-12-11T10:00)."""
    return start.replace("Z", "")[:16]


def clinic_changes(form: dict[str, list[str]], clinic: dict) -> dict:
    """PATCH /clinics/{id}'s body: only the fields the form changed (title, description, a new
    meeting link, the presenters, slot times in UTC and lengths). The scheduler checks it again."""
    first = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
    changes: dict = {}
    for name in ("title", "description"):
        value = first(name)
        if value and value != (clinic.get(name) or ""):
            changes[name] = value
    if first("meeting_url"):
        changes["meeting_url"] = first("meeting_url")
    if "sharers" in form:
        sharers = list(dict.fromkeys(s for s in (p.strip() for p in first("sharers").split(",")) if s))[:10]
        if sharers != list(clinic.get("sharers") or []):
            changes["sharers"] = sharers
    slots = []
    for slot in clinic.get("slots") or []:
        start, minutes = first(f"start-{slot['id']}"), first(f"minutes-{slot['id']}")
        try:
            new_start = datetime.fromisoformat(start).replace(tzinfo=timezone.utc) if start else None
            new_minutes = int(minutes) if minutes else slot["minutes"]
        except ValueError:
            continue
        moved = new_start is not None and slot_input(new_start.isoformat()) != slot_input(slot["start"])
        if moved or new_minutes != slot["minutes"]:
            when = new_start.isoformat().replace("+00:00", "Z") if moved else slot["start"]
            slots.append({"slot_id": slot["id"], "start": when, "minutes": new_minutes})
    if slots:
        changes["slots"] = slots
    return changes


def recording_confirmation(form: dict[str, list[str]]) -> list[str]:
    """POST .../recording/confirm's `not_recorded`: the attendees the staff member ticked."""
    return list(dict.fromkeys(value for value in form.get("not_recorded", []) if value))[:2000]


def dashboard_charts(stats: dict[str, dict]) -> dict[str, list[dict]]:
    """The dashboard's charts from the five services' /stats (the table is letsconnect.report's)."""
    registry, matcher, scheduler = stats.get("registry", {}), stats.get("matcher", {}), stats.get("scheduler", {})
    ratings = scheduler.get("feedback_by_rating") or {}
    return {
        "by_month": bars(registry.get("by_month") or {}),
        "by_region": bars(registry.get("by_region") or {}),
        "by_group_type": bars(registry.get("by_group_type") or {}),
        "connections": bars({name: matcher.get(name, 0) for name in ("proposed", "confirmed", "completed")}),
        "ratings": bars({f"{rating} ★": ratings.get(str(rating), 0) for rating in range(5, 0, -1)}),
    }
