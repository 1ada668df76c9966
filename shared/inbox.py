"""Idempotent consumers: the applied event id is recorded in the same transaction as the effect."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Callable

from pymongo import InsertOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.mongo import in_transaction, write_all, write_atomically

COLLECTION = "inbox"


class Inbox:
    def __init__(self, db: Database, consumer: str):
        self.db = db
        self.consumer = consumer
        self.collection = db[COLLECTION]

    def ensure_indexes(self) -> None:
        pass  # the key is _id, unique by nature

    def _key(self, event_id: str) -> str:
        return f"{self.consumer}:{event_id}"

    def seen(self, event_id: str) -> bool:
        return self.collection.find_one({"_id": self._key(event_id)}, projection={"_id": 1}) is not None

    def apply_once(self, envelope: dict, effect: Callable[[ClientSession], None]) -> bool:
        """Apply `effect(session)` unless this event was applied before; True when applied now."""
        key = self._key(envelope["id"])

        def work(session: ClientSession) -> bool:
            if self.collection.find_one({"_id": key}, session=session, projection={"_id": 1}):
                return False
            self.collection.insert_one({"_id": key, "type": envelope["type"], "applied_at": datetime.now(timezone.utc)},
                                       session=session)
            effect(session)
            return True

        try:
            return in_transaction(self.db, work)
        except DuplicateKeyError:
            if self.seen(envelope["id"]):
                return False  # a concurrent copy applied it first
            raise

    def _records(self, envelopes: list[dict]) -> list[dict]:
        now = datetime.now(timezone.utc)
        # no subject: for participant events it is the person's id, kept here after erasure
        return [{"_id": self._key(e["id"]), "type": e["type"], "applied_at": now} for e in envelopes]

    def record_operations(self, envelopes: list[dict]) -> list[InsertOne]:
        """The inbox rows of `envelopes` as operations of one client-level bulk write: a row that
        exists already (an event applied before) fails it with a duplicate key."""
        return [InsertOne(record, namespace=self.collection.full_name) for record in self._records(envelopes)]

    def apply_batch(self, envelopes: list[dict], effect: Callable[[ClientSession, dict], None],
                    finish: Callable[[ClientSession], None] | None = None) -> int:
        """Apply `effect(session, envelope)` for each not-yet-applied event, all in one transaction.
        Bets first that every event is new (their inbox rows written without reading the inbox
        first, one statement fewer); a row that exists already loses the bet, and the poll is
        applied again, skipping what was applied before."""
        pending = {self._key(envelope["id"]): envelope for envelope in envelopes}

        def work(session: ClientSession, betting: bool) -> int:
            if betting:
                fresh = list(pending.values())
            else:
                seen = {doc["_id"] for doc in self.collection.find({"_id": {"$in": list(pending)}}, {"_id": 1},
                                                                     session=session)}
                fresh = [envelope for key, envelope in pending.items() if key not in seen]
            if fresh:
                try:
                    self.collection.insert_many(self._records(fresh), session=session)
                except BulkWriteError as exc:
                    if betting and all(error.get("code") == 11000 for error in exc.details.get("writeErrors", [])):
                        raise _AppliedBefore() from exc
                    raise
            for envelope in fresh:
                effect(session, envelope)
            if finish is not None:
                finish(session)
            return len(fresh)

        try:
            return in_transaction(self.db, lambda session: work(session, betting=True))
        except _AppliedBefore:  # a redelivery: the transaction was aborted with nothing of it written
            return in_transaction(self.db, lambda session: work(session, betting=False))


class _AppliedBefore(Exception):
    """An event of the poll has its inbox row already."""


WriteOps = list  # [pymongo write models (UpdateOne, InsertOne ...) with namespace="db.collection"]


class IdempotentHandler:
    """The one way a consumer applies an event: its effect and the applied event id in one
    transaction, so a redelivered event changes nothing. The runner hands a whole poll over in
    one transaction (apply_batch) and falls back to one event at a time (with retries and the
    .dlq) when that fails.

    Give exactly one effect:
    - `effect(session, envelope)`: any writes, made with the session;
    - `writes(envelope) -> [UpdateOne/InsertOne/DeleteOne ... with namespace=collection.full_name]`:
      a poll of such handlers is first tried as one bulk write of its inbox rows and writes, and
      the commit (two round trips); if any of its events was applied before, as below;
    - `batch(session, envelopes)`: the fresh events of a poll at once (to share lookups);
    - `batch_writes(session, envelopes) -> write models`: the same, its reads made with the session
      and its writes returned: like `writes`, a poll of such handlers is first tried as one bulk
      write with its inbox rows, and the commit.
    Hooks: `begin()` at the start of every transaction attempt (a retried transaction starts
    afresh; for write-only handlers, once before their writes are built), `committed()` once the transaction committed with fresh events (handlers applied
    together that share a hook have it called once, before and after all of them), and
    `follow_up(envelopes)` after the commit, with all of the poll's events of the handler's type,
    redelivered ones too (work that runs in transactions of its own and is idempotent by itself,
    such as proposing connections; given together, so that it may share its reads).
    `also(session, envelopes) -> write models` (see `also_writing`): writes for all of them too,
    redelivered ones included, built from reads in the same transaction and written with it.
    """

    def __init__(self, inbox: Inbox, effect: Callable[[ClientSession, dict], None] | None = None, *,
                 writes: Callable[[dict], WriteOps] | None = None,
                 batch: Callable[[ClientSession, list[dict]], None] | None = None,
                 batch_writes: Callable[[ClientSession, list[dict]], WriteOps] | None = None,
                 begin: Callable[[], None] | None = None, committed: Callable[[], None] | None = None,
                 follow_up: Callable[[list[dict]], None] | None = None,
                 also: Callable[[ClientSession, list[dict]], WriteOps] | None = None):
        if sum(given is not None for given in (effect, writes, batch, batch_writes)) != 1:
            raise ValueError("give exactly one of effect, writes, batch or batch_writes")
        self.inbox = inbox
        self.effect = effect
        self.writes = writes
        self.batch = batch
        self.batch_writes = batch_writes
        self.begin = begin or (lambda: None)
        self.committed = committed or (lambda: None)
        self.follow_up = follow_up
        self.also = also

    def also_writing(self, also: Callable[[ClientSession, list[dict]], WriteOps]) -> "IdempotentHandler":
        """This handler, making `also`'s writes in each of its transactions (erasing a withdrawn
        person from the service's retained log in the transaction that applies the withdrawal:
        one commit, and no moment when one is done and not the other)."""
        made = copy.copy(self)
        made.also = also
        return made

    def _write(self, session: ClientSession, operations: WriteOps) -> None:
        write_all(self.inbox.db, operations, session)

    def _apply_fresh(self, session: ClientSession, fresh: list[dict]) -> None:
        if self.batch is not None:
            if fresh:
                self.batch(session, fresh)
        elif self.writes is not None:
            self._write(session, [op for envelope in fresh for op in self.writes(envelope)])
        elif self.batch_writes is not None:
            if fresh:
                self._write(session, self.batch_writes(session, fresh))
        else:
            for envelope in fresh:
                self.effect(session, envelope)

    def _also(self, session: ClientSession, envelopes: list[dict]) -> None:
        if self.also is not None and envelopes:
            self._write(session, self.also(session, envelopes))

    def __call__(self, envelope: dict) -> None:
        def work(session: ClientSession) -> None:
            self.begin()
            self._apply_fresh(session, [envelope])
            self._also(session, [envelope])

        if self.inbox.apply_once(envelope, work):
            self.committed()
        elif self.also is not None:  # applied before: its `also` writes are made again, harmlessly
            in_transaction(self.inbox.db, lambda session: self._also(session, [envelope]))
        self._follow_up([envelope])

    def _follow_up(self, envelopes: list[dict]) -> None:
        if self.follow_up is not None and envelopes:
            self.follow_up(envelopes)

    def apply_batch(self, envelopes: list[dict]) -> int:
        return apply_together([(self, envelopes)])


def shares_one_inbox(handlers: list) -> bool:
    """Whether these handlers can apply a poll's events in one transaction (apply_together)."""
    if not all(isinstance(handler, IdempotentHandler) for handler in handlers):
        return False
    return len({(handler.inbox.db.name, handler.inbox.consumer) for handler in handlers}) == 1


def apply_together(batches: list[tuple[IdempotentHandler, list[dict]]]) -> int:
    """Events of one poll for several handlers of one consumer (shares_one_inbox) in one
    transaction, each handler's fresh events in turn: a registration's participant-registered
    and skill-registered cost one transaction, not two. Then each handler's committed() hook if it
    applied any, and its follow-up with all of its events, redelivered ones too."""
    inbox = batches[0][0].inbox
    batches = _by_handler(batches)
    if all(handler.writes is not None or handler.batch_writes is not None for handler, _ in batches):
        try:
            return _apply_new_writes(batches)
        except DuplicateKeyError:
            pass  # some were applied before (or a write collides): read the inbox to skip them
    collected: list[dict] = []
    applied_by: dict[int, int] = {}

    def collect(session: ClientSession, envelope: dict) -> None:
        collected.append(envelope)

    def finish(session: ClientSession) -> None:
        fresh = {envelope["id"] for envelope in collected}
        collected.clear()  # a retried transaction collects afresh
        for begin in dict.fromkeys(handler.begin for handler, _ in batches):  # handlers may share hooks
            begin()
        for handler, envelopes in batches:
            mine = []
            for envelope in envelopes:
                if envelope["id"] in fresh:
                    fresh.discard(envelope["id"])  # a copy delivered twice in one poll applies once
                    mine.append(envelope)
            handler._apply_fresh(session, mine)
            handler._also(session, envelopes)
            applied_by[id(handler)] = len(mine)

    applied = inbox.apply_batch([envelope for _, envelopes in batches for envelope in envelopes], collect,
                                finish=finish)
    for committed in dict.fromkeys(handler.committed for handler, _ in batches if applied_by.get(id(handler))):
        committed()
    for handler, envelopes in batches:
        handler._follow_up(envelopes)
    return applied


def _by_handler(batches: list[tuple[IdempotentHandler, list[dict]]]) -> list[tuple[IdempotentHandler, list[dict]]]:
    """One entry per handler: a handler wired to several event types sees the poll's events of all
    of them at once (in the order of the types), so they share its reads and writes."""
    merged: dict[int, tuple[IdempotentHandler, list[dict]]] = {}
    for handler, envelopes in batches:
        merged.setdefault(id(handler), (handler, []))[1].extend(envelopes)
    return list(merged.values())


def _apply_new_writes(batches: list[tuple[IdempotentHandler, list[dict]]]) -> int:
    """apply_together for handlers that give their writes (`writes`, `batch_writes`), betting that
    every event is new: their reads, then their inbox rows and writes in one bulk write, and the
    commit. An event applied before fails the bet with a duplicate key, and nothing of it is
    written."""
    inbox = batches[0][0].inbox
    unique: dict[str, tuple[IdempotentHandler, dict]] = {}
    for handler, envelopes in batches:
        for envelope in envelopes:
            unique.setdefault(envelope["id"], (handler, envelope))
    fresh_of = {id(handler): [envelope for owner, envelope in unique.values() if owner is handler]
                for handler, _ in batches}

    def writes_of(session: ClientSession, handler: IdempotentHandler) -> list:
        if handler.writes is not None:
            return [op for envelope in fresh_of[id(handler)] for op in handler.writes(envelope)]
        return handler.batch_writes(session, fresh_of[id(handler)]) if fresh_of[id(handler)] else []

    def operations(session: ClientSession) -> list:
        for begin in dict.fromkeys(handler.begin for handler, _ in batches):
            begin()
        return [*inbox.record_operations([envelope for _, envelope in unique.values()]),
                *(op for handler, _ in batches for op in writes_of(session, handler)),
                *(op for handler, envelopes in batches if handler.also is not None and envelopes
                  for op in handler.also(session, envelopes))]

    write_atomically(inbox.db, operations)
    for committed in dict.fromkeys(handler.committed for handler, envelopes in batches if envelopes):
        committed()
    for handler, envelopes in batches:
        handler._follow_up(envelopes)
    return len(unique)
