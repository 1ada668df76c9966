"""The sender against the real database and SMTP sink: a message whose sender died is sent by
another copy, and two copies scanning at once send each message once."""
from __future__ import annotations

import uuid
from collections import deque
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from bson import Binary, ObjectId

from services.notifier.config import NotifierConfig
from services.notifier.sending import Sender
from services.notifier.service import NotifierService
from services.notifier.store import Store
from shared.mongo import database
from tests.integration.notifier.helpers import mail_to, new_id
from tests.support import namespaced_settings


def stored_message(store: Store, address: str, claim=None, claimed_until=None) -> str:
    message = EmailMessage()
    message["From"] = "letsconnect@wikimedia.example"
    message["To"] = address
    message["Subject"] = "Reminder"
    message.set_content("See you tomorrow.")
    now = datetime.now(timezone.utc)
    notification_id = uuid.uuid4().hex
    store.deliveries.insert_one({
        "_id": notification_id, "seq": ObjectId(), "key": f"e-{notification_id}|{address}|clinic_reminder",
        "event_id": f"e-{notification_id}", "event_type": "clinic-reminder", "template": "clinic_reminder",
        "category": "reminders", "participant_id": new_id(), "channel": "email", "attempts": 0, "log": [],
        "status": "queued", "due_at": now, "language": "en", "first_language": "en", "to": address,
        "message": Binary(message.as_bytes()), "created_at": now, "claim": claim, "claimed_until": claimed_until})
    return notification_id


def sender_for(settings, store: Store, config: NotifierConfig | None = None, **kwargs) -> Sender:
    """A sender whose outcomes go to the service layer's delivery log, as in the worker."""
    config = config or NotifierConfig()
    service = NotifierService(settings, config, store.db)
    return Sender(settings, config, service.store, record=service.outcomes.record, **kwargs)


def test_a_message_claimed_by_a_sender_that_died_is_sent_once_its_claim_lapses(servers):
    settings = namespaced_settings(servers)
    store = Store(database(settings, "notifier"))
    address = f"{new_id()}@example.org"
    past = datetime.now(timezone.utc) - timedelta(seconds=5)
    notification_id = stored_message(store, address, claim="dead-process:new", claimed_until=past)
    future = stored_message(store, f"{new_id()}@example.org", claim="live-process:new",
                            claimed_until=datetime.now(timezone.utc) + timedelta(minutes=2))
    sender = sender_for(settings, store)
    assert sender.send_round() == 1
    assert sender.record_pending(wait=0) == 1
    sender.close()
    assert len(mail_to(servers.maildir, address)) == 1
    doc = store.deliveries.find_one({"_id": notification_id})
    assert doc["status"] == "sent" and doc["attempts"] == 1 and "message" not in doc and "to" not in doc
    assert store.deliveries.find_one({"_id": future})["status"] == "queued"  # its sender is alive


def test_two_senders_scanning_together_send_each_message_once(servers):
    settings = namespaced_settings(servers)
    store = Store(database(settings, "notifier"))
    addresses = [f"{new_id()}@example.org" for _ in range(20)]
    for address in addresses:
        stored_message(store, address)
    first, second = (sender_for(settings, store, NotifierConfig(send_batch=7)) for _ in range(2))
    while first.send_round() + second.send_round():
        pass
    for sender in (first, second):
        sender.record_pending(wait=0)
        sender.close()
    assert [len(mail_to(servers.maildir, address)) for address in addresses] == [1] * 20
    assert store.deliveries.count_documents({"status": "sent"}) == 20


def test_a_handed_over_message_cancelled_meanwhile_is_not_sent(servers):
    settings = namespaced_settings(servers)
    store = Store(database(settings, "notifier"))
    until = datetime.now(timezone.utc) + timedelta(minutes=2)
    kept, withdrawn = (f"{new_id()}@example.org" for _ in range(2))
    handoff = deque()
    for address in (kept, withdrawn):
        notification_id = stored_message(store, address, claim="me:new", claimed_until=until)
        handoff.append(store.deliveries.find_one({"_id": notification_id}))
    store.deliveries.update_one({"to": withdrawn}, {"$set": {"status": "cancelled"}})  # participant withdrew
    sender = sender_for(settings, store, handoff=handoff, owner="me")
    assert sender.send_round() == 1
    sender.record_pending(wait=0)
    sender.close()
    assert len(mail_to(servers.maildir, kept)) == 1 and mail_to(servers.maildir, withdrawn) == []
