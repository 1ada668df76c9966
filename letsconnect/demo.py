"""`letsconnect demo`: the program at work, driven only through the services' public HTTP APIs.

Registers a seeded population (a few applicants are refused, as in real intake), runs a
connect-making round, has people accept or decline and report outcomes, schedules clinics,
registers people, completes the clinics with recordings, collects feedback and publishes
resources. Prints progress, then where to look.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from letsconnect.client import ApiError, Platform
from letsconnect.population import population
from shared.config import Settings
from shared.taxonomy import base_taxonomy, topic_label


@dataclass
class Person:
    id: str
    token: str
    body: dict

    def learns(self) -> set[str]:
        return {i["topic"] for i in self.body["interests"] if i["direction"] == "learn"}

    def shares(self) -> set[str]:
        return {i["topic"] for i in self.body["interests"] if i["direction"] == "share"}


@dataclass
class DemoResult:
    registered: list[Person] = field(default_factory=list)
    refused: int = 0
    withdrawn: list[str] = field(default_factory=list)
    matches: dict[str, dict] = field(default_factory=dict)
    clinics: list[dict] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    run: str = ""
    matcher_baseline: int = 0
    already_registered: int = 0
    seats: int = 0
    waitlisted: int = 0

    def summary(self) -> list[str]:
        """This run's own figures (`letsconnect report` gives the whole platform's)."""
        proposed = len(self.matches)  # every connection proposed to someone of this run
        confirmed = sum(1 for m in self.matches.values() if m["status"] in ("confirmed", "completed"))
        return [
            f"This run ({self.run}):",
            f"  {len(self.registered)} registered, {self.refused} refused by the checklist"
            + (f", {self.already_registered} already registered" if self.already_registered else ""),
            f"  {proposed} connections proposed to them, {confirmed} confirmed",
            f"  {len(self.clinics)} clinics, {self.seats} seats confirmed, {self.waitlisted} on waitlists",
            f"  {len(self.resources)} resources published, {len(self.withdrawn)} person erased on request",
        ]


def run_tag(seed: int, now: float | None = None) -> str:
    """Short and different for every run (seconds since 2026, base 36), with the seed."""
    stamp = int((time.time() if now is None else now) - 1_767_225_600)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        stamp, rest = divmod(max(stamp, 0), 36)
        text = digits[rest] + text
        if not stamp:
            break
    return f"s{seed}{text}"


def say(text: str) -> None:
    print(text, flush=True)


def register(platform: Platform, size: int, seed: int, result: DemoResult) -> None:
    say(f"1/6 Registering {size} organisers from every region (run {result.run}) ...")
    for index, applicant in enumerate(population(size, seed=seed, run=result.run), start=1):
        response = platform.call("POST", "registry", "/participants", json=applicant.body, expect=(201, 409, 422))
        if response.status_code == 201:
            created = response.json()
            result.registered.append(Person(created["id"], created["token"], applicant.body))
        elif response.status_code == 409:
            result.already_registered += 1  # someone took the username meanwhile: not this run's person
        else:
            result.refused += 1
        if index % 25 == 0 or index == size:
            say(f"    {index}/{size} applications: {len(result.registered)} registered, {result.refused} refused "
                "with the reasons and where to learn instead")


def wait_for(check, timeout: float, interval: float = 0.5):
    deadline = time.time() + timeout
    value = check()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = check()
    return value


def match(platform: Platform, rng: random.Random, result: DemoResult) -> None:
    say("2/6 Running a connect-making round over every open learning interest ...")
    learners = sum(1 for p in result.registered if p.learns())
    known = result.matcher_baseline + learners * 0.9  # the matcher may already hold earlier runs' people
    wait_for(lambda: platform.stats("matcher").get("learn_interests", 0) >= known, timeout=30)
    round_ = platform.json("POST", "matcher", "/rounds", staff=True, json={}, expect=(200, 201, 202))
    round_id = round_.get("id")
    wait_for(lambda: platform.json("GET", "matcher", f"/rounds/{round_id}", staff=True).get("status")
             in ("completed", "done", "finished"), timeout=60)
    by_id = {p.id: p for p in result.registered}
    for person in result.registered:
        for item in platform.json("GET", "matcher", f"/matches?participant={person.id}", staff=True)["items"]:
            result.matches[item["id"]] = item
    proposed = [m for m in result.matches.values() if m["status"] == "proposed"]
    say(f"    {len(proposed)} connections proposed; everyone answers (most accept) ...")
    for item in proposed:
        for member in item["participants"]:
            person = by_id.get(member["id"])
            if person is None:
                continue
            accept = rng.random() < 0.85
            platform.call("POST", "matcher", f"/matches/{item['id']}/respond", token=person.token,
                          json={"participant": person.id, "response": "accept" if accept else "decline",
                                **({} if accept else {"reason": "no time this month"})}, expect=(200, 201, 409))
    confirmed = []
    for match_id in list(result.matches):
        item = platform.json("GET", "matcher", f"/matches/{match_id}", staff=True)
        result.matches[match_id] = item
        if item["status"] == "confirmed":
            confirmed.append(item)
    say(f"    {len(confirmed)} connections confirmed; introductions sent by email")
    for item in confirmed[: max(1, len(confirmed) * 2 // 3)]:
        reporter = by_id.get(item["participants"][0]["id"])
        if reporter:
            platform.call("POST", "matcher", f"/matches/{item['id']}/outcome", token=reporter.token,
                          json={"participant": reporter.id,
                                "summary": "We compared our budgets and shared templates; we will meet again."},
                          expect=(200, 201))


def clinics(platform: Platform, rng: random.Random, result: DemoResult) -> None:
    say("3/6 Scheduling monthly clinics on the most wanted topics ...")
    sharers_by_topic: dict[str, list[Person]] = {}
    for person in result.registered:
        for topic in person.shares():
            sharers_by_topic.setdefault(topic, []).append(person)
    start = (datetime.now(timezone.utc) + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    for index, topic in enumerate(base_taxonomy()["pilot_top_learn"][:3]):
        sharers = [p.id for p in sharers_by_topic.get(topic, [])[:2]]
        day = start + timedelta(days=7 * index)
        clinic = platform.json("POST", "scheduler", "/clinics", staff=True, json={
            "kind": "monthly", "title": f"Clinic: {topic_label(topic)}",
            "description": "A 90-minute live learning clinic with a case study from a peer, and time for questions.",
            "topics": [topic], "sharers": sharers,
            "slots": [{"start": day.isoformat().replace("+00:00", "Z"), "minutes": 90},
                      {"start": (day + timedelta(hours=9)).isoformat().replace("+00:00", "Z"), "minutes": 90}],
            "language": "en", "interpretation": ["ar", "fr", "es"], "seats": 20,
            "meeting_url": f"https://meet.example.org/letsconnect-{index + 1}"})
        result.clinics.append(clinic)
    say(f"    {len(result.clinics)} clinics, two time-zone slots each, with interpretation; invitations sent")
    say("4/6 Registering participants for seats (first come; then a waitlist) ...")
    seats = waitlisted = 0
    for clinic in result.clinics:
        topic = clinic["topics"][0]
        interested = [p for p in result.registered if topic in p.learns()]
        for person in interested:
            slot = clinic["slots"][rng.randrange(len(clinic["slots"]))]
            interpretation = next((lang for lang in person.body["languages"] if lang in ("ar", "fr", "es")), None)
            body = {"participant": person.id, "slot": slot["id"]}
            if interpretation and "en" not in person.body["languages"]:
                body["interpretation"] = interpretation
            registration = platform.json("POST", "scheduler", f"/clinics/{clinic['id']}/registrations",
                                         token=person.token, json=body, expect=(200, 201, 409, 422))
            if registration and registration.get("status") == "confirmed":
                seats += 1
            elif registration and registration.get("status") == "waitlisted":
                waitlisted += 1
    result.seats, result.waitlisted = seats, waitlisted
    say(f"    {seats} seats confirmed, {waitlisted} on waitlists")


def complete_and_share(platform: Platform, rng: random.Random, result: DemoResult) -> None:
    say("5/6 Completing clinics: attendance, recordings (with each person's consent), feedback ...")
    by_id = {p.id: p for p in result.registered}
    for index, clinic in enumerate(result.clinics):
        confirmed = [pid for pid in by_id
                     if (platform.json("GET", "scheduler", f"/clinics/{clinic['id']}/registrations/{pid}",
                                       staff=True, expect=(200, 404)) or {}).get("status") == "confirmed"]
        attended = [pid for pid in confirmed if rng.random() < 0.85]
        done = platform.json("POST", "scheduler", f"/clinics/{clinic['id']}/complete", staff=True, json={
            "attendees": attended, "recording_url": f"https://commons.example.org/clinic-{index + 1}.webm"},
            expect=(200, 201))
        unconsented = (done or {}).get("recording", {}).get("unconsented", [])
        if unconsented:  # their cameras were off and they were left out of the edit
            platform.call("POST", "scheduler", f"/clinics/{clinic['id']}/recording/confirm", staff=True,
                          json={"not_recorded": unconsented}, expect=(200,))
        for pid in attended:
            if rng.random() < 0.3:
                person = by_id[pid]
                platform.call("POST", "scheduler", f"/clinics/{clinic['id']}/feedback", token=person.token, json={
                    "participant": pid, "useful": rng.random() < 0.75, "rating": rng.randint(3, 5),
                    "comment": "Practical and friendly; more time for questions next time."}, expect=(200, 201))
    say("6/6 Publishing decks and guidelines to the resource space ...")
    for index, clinic in enumerate(result.clinics):
        resource = platform.json("POST", "resources", "/resources", staff=True, json={
            "title": f"Slides: {clinic['title']}", "description": "The case study presented at the clinic.",
            "kind": "deck", "url": f"https://commons.example.org/slides-{index + 1}.pdf", "language": "en",
            "topics": clinic["topics"], "clinic": clinic["id"], "authors": ["Let's Connect working group"],
            "license": "CC-BY-SA-4.0", "consent": True})
        result.resources.append(resource["id"])


def withdraw_one(platform: Platform, result: DemoResult) -> None:
    """One person asks to be forgotten, as people do."""
    leaving = result.registered[-1]
    platform.call("DELETE", "registry", f"/participants/{leaving.id}", token=leaving.token, expect=(204,))
    result.withdrawn.append(leaving.id)


def run_demo(platform: Platform, settings: Settings, participants: int = 140, seed: int = 2022) -> DemoResult:
    rng = random.Random(seed)
    result = DemoResult(run=run_tag(seed))
    result.matcher_baseline = platform.stats("matcher").get("learn_interests", 0)
    started = time.time()
    register(platform, participants, seed, result)
    try:
        match(platform, rng, result)
        clinics(platform, rng, result)
        complete_and_share(platform, rng, result)
    except ApiError as exc:
        say(f"    stopped early: {exc}")
        raise
    withdraw_one(platform, result)
    for line in result.summary():
        say(line)
    say(f"Done in {time.time() - started:.0f}s. Where to look:")
    for service, url in platform.urls.items():
        say(f"  {service:<10} {url}  (/stats, /docs)")
    say(f"  mail       {settings.data_dir}/mail/new  (one file per message, in each person's language)")
    say("  report     letsconnect report (the whole platform, every run included)")
    return result
