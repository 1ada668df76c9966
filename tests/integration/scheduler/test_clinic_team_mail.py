"""Issue 17 end to end on the embedded stack, scheduler and notifier together, read back from the SMTP
sink: a clinic with two sharers and two interpretation languages -> presenter emails in each sharer's
language; interpreter requests to the right translators, whose emailed links answer the scheduler;
one accepts (and gets the meeting link), one declines; the clinic shows one confirmed and one missing;
72 hours before (clock injected) the program team is told once and the attendee of the missing
language is told in theirs."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notifier.config import NotifierConfig
from services.notifier.worker import build_worker as notifier_worker
from services.scheduler.app import create_app
from services.scheduler.service import SchedulerService
from services.scheduler.store import Store
from services.scheduler.worker import build_worker as scheduler_worker
from shared.bus import Publisher
from shared.events import make_event
from shared.tokens import issue_participant_token
from tests.integration.notifier.helpers import mail_to, participant, parts
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running

RUN = uuid.uuid4().hex[:8]  # the Maildir is shared by the whole test session
ADDRESS = {name: f"{name}-{RUN}@example.org" for name in ("ar1", "ar2", "fr1", "team")}


class Clock:
    now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def stack(servers):
    settings = namespaced_settings(servers, translators={"ar": (ADDRESS["ar1"], ADDRESS["ar2"]), "fr": (ADDRESS["fr1"],)},
                                   portal_url="https://portal.example.org")
    clock = Clock()
    config = NotifierConfig(retry_base_seconds=0.05, scan_seconds=0.1, program_team=(ADDRESS["team"],))
    with running(scheduler_worker(settings, clock, reminder_every=3600), notifier_worker(settings, config)) as (worker, _):
        publisher = Publisher(settings, "test")
        people = {f"sharer-ar-{RUN}": ("ar",), f"sharer-fr-{RUN}": ("fr",), f"attendee-fr-{RUN}": ("fr", "en")}
        for pid, languages in people.items():
            publisher.publish(make_event("participant-registered", pid, participant(pid, languages=languages), "registry"))
        publisher.close()
        eventually(lambda: Store(worker.db).people.count_documents({}) == 3)
        yield settings, create_app(settings, clock).test_client(), worker, clock


def mails(servers, address, template):
    return [m for m in mail_to(servers.maildir, address) if m["X-LetsConnect-Template"] == template]


def link_in(message, path_prefix):
    for word in parts(message)["text"].split():
        split = urlsplit(word)
        if split.path.startswith(path_prefix):
            return split
    raise AssertionError(f"no link to {path_prefix} in {parts(message)['text']}")


def test_everyone_in_the_room_is_told_in_their_language(servers, stack):
    settings, client, worker, clock = stack
    start = clock.now + timedelta(days=5)
    clinic = client.post("/clinics", headers=STAFF_HEADERS, json={
        "kind": "monthly", "title": "Budgets that funders trust", "topics": ["budget-development"],
        "sharers": [f"sharer-ar-{RUN}", f"sharer-fr-{RUN}"], "language": "en", "interpretation": ["ar", "fr"],
        "slots": [{"start": start.isoformat(), "minutes": 90}], "meeting_url": "https://meet.example.org/room-mail"})
    assert clinic.status_code == 201, clinic.get_json()
    cid = clinic.get_json()["id"]

    # presenters, each in their language, with the presenter link, the link to the meeting and the .ics
    arabic = eventually(lambda: mails(servers, f"sharer-ar-{RUN}@example.org", "presenter_scheduled"))[0]
    french = eventually(lambda: mails(servers, f"sharer-fr-{RUN}@example.org", "presenter_scheduled"))[0]
    assert "تقدّم في عيادة التعلّم" in arabic["Subject"] and "Vous présentez" in french["Subject"]
    assert "meet.example.org/room-mail" in parts(arabic)["text"] and parts(arabic)["attachments"]
    presenter_link = link_in(french, f"/clinics/{cid}")
    view = client.get(f"/clinics/{cid}/presenter", headers=auth(parse_qs(presenter_link.query)["token"][0]))
    assert view.status_code == 200 and view.get_json()["presenter"] == f"sharer-fr-{RUN}"

    # interpreter requests reach exactly the translators of each language
    requests = {name: eventually(lambda name=name: mails(servers, ADDRESS[name], "interpreter_request"))
                for name in ("ar1", "ar2", "fr1")}
    assert all(len(found) == 1 for found in requests.values())
    assert mails(servers, ADDRESS["fr1"], "translation_request") == []

    def answer(name, response):
        link = link_in(requests[name][0], "/interpretation/")
        request_id = link.path.rsplit("/", 1)[1]
        return client.post(f"/interpretation-requests/{request_id}/respond", json={"response": response},
                           headers=auth(parse_qs(link.query)["token"][0]))

    assert answer("ar1", "accept").status_code == 200
    assert answer("ar2", "accept").status_code == 409  # ar1 was first
    assert answer("fr1", "decline").status_code == 200
    status = client.get(f"/clinics/{cid}").get_json()["interpretation_status"]
    assert (status["ar"]["status"], status["fr"]["status"]) == ("confirmed", "missing")
    confirmed = eventually(lambda: mails(servers, ADDRESS["ar1"], "interpreter_scheduled"))[0]
    assert "meet.example.org/room-mail" in parts(confirmed)["text"] and parts(confirmed)["attachments"]
    assert mails(servers, ADDRESS["ar2"], "interpreter_scheduled") == []

    # someone chose French; 72 hours before, the team is told once and they are told in French
    attendee = f"attendee-fr-{RUN}"
    assert client.post(f"/clinics/{cid}/registrations", headers=auth(issue_participant_token(settings, attendee)),
                       json={"participant": attendee, "slot": clinic.get_json()["slots"][0]["id"],
                             "interpretation": "fr"}).status_code == 201
    saved = clock.now
    try:
        clock.now = start - timedelta(hours=71)
        watcher = SchedulerService(Store(worker.db), settings, clock=clock).reminders
        watcher.watch_interpretation()
        watcher.watch_interpretation()
    finally:
        clock.now = saved
    team = eventually(lambda: mails(servers, ADDRESS["team"], "interpretation_missing"))
    told = eventually(lambda: mails(servers, f"{attendee}@example.org", "interpretation_unavailable"))
    assert "No interpreter yet (French)" in team[0]["Subject"] and "declined" in parts(team[0])["text"]
    assert "Pas encore d'interprète vers le français" in told[0]["Subject"]
    assert link_in(told[0], f"/clinics/{cid}")
    assert len(mails(servers, ADDRESS["team"], "interpretation_missing")) == 1
