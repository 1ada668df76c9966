"""Relays that refuse: retried with backoff when they say 4xx, failed at once when they say 5xx;
and a template that cannot render parks its event on the .dlq with the reason."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from letsconnect.mailsink import MaildirHandler, start_sink
from letsconnect.servers import free_port
from services.notifier.app import create_app
from services.notifier.config import NotifierConfig
from services.notifier.worker import build_worker
from shared.bus import read_topic
from shared.events import dlq_of
from tests.integration.notifier.helpers import Events, mail_to, match, new_id, participant
from tests.support import STAFF_HEADERS, eventually, namespaced_settings, running


class FlakyHandler(MaildirHandler):
    """Says 451 to the first `failures` messages of each recipient, then accepts."""

    def __init__(self, maildir, failures: int):
        super().__init__(maildir)
        self.failures = failures
        self.seen: dict[str, int] = {}
        self.guard = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.guard:
            key = ",".join(envelope.rcpt_tos)
            self.seen[key] = self.seen.get(key, 0) + 1
            if self.seen[key] <= self.failures:
                return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


class RefusingHandler(MaildirHandler):
    async def handle_DATA(self, server, session, envelope):
        return "550 5.1.1 No such mailbox"


@pytest.fixture
def sink(tmp_path):
    started = []

    def start(handler_class, **kwargs):
        port = free_port()
        maildir = Path(tmp_path) / f"mail-{port}"
        controller = start_sink("127.0.0.1", port, maildir, handler=handler_class(maildir, **kwargs))
        started.append(controller)
        return f"smtp://127.0.0.1:{port}", maildir

    yield start
    for controller in started:
        controller.stop()


def log_of(client, pid):
    return client.get(f"/notifications?participant={pid}", headers=STAFF_HEADERS).get_json()["items"]


def failed_events(settings, notification_id):
    return [json.loads(r.value)["data"] for r in read_topic(settings, settings.topic_name("notification-failed"))
            if json.loads(r.value)["data"]["notification_id"] == notification_id]


def test_a_relay_that_fails_twice_then_accepts_delivers_one_message(servers, sink, tmp_path):
    smtp_url, maildir = sink(FlakyHandler, failures=2)
    broken = tmp_path / "templates"
    broken.mkdir()
    # a broken English template for one message only: its event must go to the .dlq
    (broken / "connection_thanks.en.txt").write_text("{% block subject %}{{ oops( }}{% endblock %}")
    settings = namespaced_settings(servers, smtp_url=smtp_url)
    config = NotifierConfig(retry_base_seconds=0.05, scan_seconds=0.1, max_attempts=5, template_dirs=(str(broken),))
    events = Events(settings)
    client = create_app(settings).test_client()
    pid, other = new_id(), new_id()
    with running(build_worker(settings, config)):
        events.publish("participant-registered", participant(pid))
        [entry] = eventually(lambda: [e for e in log_of(client, pid) if e["status"] == "sent"])
        assert entry["attempts"] == 3
        assert [a["outcome"] for a in entry["log"]] == ["retry", "retry", "sent"]
        assert [a["code"] for a in entry["log"][:2]] == [451, 451]
        assert len(mail_to(maildir, f"{pid}@example.org")) == 1

        events.publish("participant-registered", participant(other))
        eventually(lambda: log_of(client, other))  # both known: the message is rendered at once, not parked
        completed = events.publish("connection-completed", {**match(new_id("m"), pid, other), "summary": "useful",
                                                            "completed_at": "2026-11-24T12:00:00Z"}, source="matcher")
        parked = eventually(lambda: [json.loads(r.value) for r in read_topic(
            settings, dlq_of(settings.topic_name("connection-completed")))])
    assert json.loads(parked[0]["event"])["id"] == completed["id"]
    assert "connection_thanks" in parked[0]["error"] and "PermanentError" in parked[0]["error"]
    assert client.get("/stats").get_json()["retried"] >= 1
    events.close()


def test_a_relay_that_refuses_permanently_sends_nothing_and_reports_failure(servers, sink):
    smtp_url, maildir = sink(RefusingHandler)
    settings = namespaced_settings(servers, smtp_url=smtp_url)
    events = Events(settings)
    client = create_app(settings).test_client()
    pid = new_id()
    with running(build_worker(settings, NotifierConfig(retry_base_seconds=0.05, scan_seconds=0.1))):
        envelope = events.publish("participant-registered", participant(pid))
        [entry] = eventually(lambda: [e for e in log_of(client, pid) if e["status"] == "failed"])
        [failed] = eventually(lambda: failed_events(settings, entry["id"]))
    assert entry["attempts"] == 1 and entry["log"][0]["code"] == 550
    assert failed["permanent"] is True and failed["event_id"] == envelope["id"] and "550" in failed["error"]
    assert failed["participant_id"] == pid and "email" not in failed
    assert mail_to(maildir, f"{pid}@example.org") == []
    assert client.get("/stats").get_json()["failed"] == 1
    events.close()


def test_a_relay_that_is_down_is_retried_until_the_limit(servers):
    settings = namespaced_settings(servers, smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nothing listens
    events = Events(settings)
    client = create_app(settings).test_client()
    pid = new_id()
    with running(build_worker(settings, NotifierConfig(retry_base_seconds=0.02, scan_seconds=0.1, max_attempts=3))):
        events.publish("participant-registered", participant(pid))
        [entry] = eventually(lambda: [e for e in log_of(client, pid) if e["status"] == "failed"])
        [failed] = eventually(lambda: failed_events(settings, entry["id"]))
    assert entry["attempts"] == 3 and [a["outcome"] for a in entry["log"]] == ["retry", "retry", "failed"]
    assert failed["permanent"] is False and "ConnectionRefused" in failed["error"]
    events.close()
