"""The resources use cases: load -> decide with domain/ -> save state and events in one transaction."""
from __future__ import annotations

import uuid

from pymongo.client_session import ClientSession

from shared import audit
from shared.clock import utcnow_iso

from services.resources.domain import resources as rules
from services.resources.domain import translations
from services.resources.domain.errors import NotFound, UnknownTopicCodes
from services.resources.domain.index import FIELDS as INDEX_FIELDS
from services.resources.domain.index import SearchIndex
from services.resources.domain.search import tokens as query_tokens
from services.resources.domain.wikitext import render
from services.resources.store import Store


class ResourcesService:
    def __init__(self, store: Store):
        self.store = store
        self.index = SearchIndex()  # this process's search read model (API processes only use it)

    # -- publishing and changing

    def require_known_topics(self, codes) -> None:
        unknown = self.store.known_topics.unknown(codes)
        if unknown:
            raise UnknownTopicCodes(unknown)

    def publish(self, data: dict, owner: str | None) -> dict:
        self.require_known_topics(data["topics"])
        resource = rules.new_resource(data, resource_id=uuid.uuid4().hex, owner=owner, now=utcnow_iso())
        self.store.publish(resource, [("resource-published", rules.published_event(resource))])
        return resource

    def resource(self, resource_id: str, staff: bool = True) -> dict:
        """`staff=False`: the public view, where a hidden resource does not exist."""
        found = self.store.resource(resource_id)
        if found is None or (not staff and rules.is_hidden(found)):
            raise NotFound(resource_id)
        return found

    # -- moderation (the working group), audited

    def hide(self, resource_id: str, reason: str, actor: dict) -> dict:
        resource = self.resource(resource_id)
        now = utcnow_iso()
        hidden = rules.hidden_resource(resource, reason, actor["id"], now)
        self.store.replace_audited(hidden, audit.entry(actor, "resource.hide", "resource", resource_id,
                                                       before={"hidden": False}, after={"hidden": True, "reason": reason}))
        self.index.forget(resource_id)
        return hidden

    def restore(self, resource_id: str, actor: dict) -> dict:
        resource = self.resource(resource_id)
        if not rules.is_hidden(resource):
            return resource
        restored = rules.restored_resource(resource, utcnow_iso())
        self.store.replace_audited(restored, audit.entry(actor, "resource.restore", "resource", resource_id,
                                                         before={"hidden": True, "reason": resource["hidden"]["reason"]},
                                                         after={"hidden": False}))
        self.index.put(restored)
        return restored

    def hidden(self) -> list[dict]:
        return self.store.hidden_resources()

    def update(self, resource_id: str, changes: dict, subject: str, is_staff: bool) -> dict:
        resource = self.resource(resource_id)
        rules.require_may_change(resource, subject, is_staff)
        self.require_known_topics(changes.get("topics", []))
        changed = rules.changed_resource(resource, changes, utcnow_iso())
        self.store.replace(changed)
        return changed

    def delete(self, resource_id: str, subject: str, is_staff: bool) -> None:
        rules.require_may_change(self.resource(resource_id), subject, is_staff)
        self.store.delete(resource_id)
        self.index.forget(resource_id)

    # -- translations

    def offer_translation(self, resource_id: str, translation: dict, subject: str, is_staff: bool) -> tuple[dict, bool]:
        """(the resource, whether the translation was set). The owner or staff set the translation
        for its language (closing the open request for it); anyone else proposes it beside them."""
        def work(session: ClientSession) -> tuple[dict, bool]:
            resource = self.store.resource(resource_id, session=session)
            if resource is None:
                raise NotFound(resource_id)
            now = utcnow_iso()
            if not rules.may_change(resource, subject, is_staff):
                proposals = translations.with_proposal(resource, translation, subject, now)
                self.store.set_proposals(session, resource_id, proposals)
                return {**resource, "proposals": proposals}, False
            kept = translations.with_translation(resource, translation, now)
            proposals = translations.adopting(resource, translation)
            self.store.set_translations(session, resource_id, kept, proposals)
            self.store.close_request(session, translations.request_id(resource_id, translation["language"]), now)
            return {**resource, "translations": kept, "proposals": proposals}, True

        return self.store.transaction(work)

    def request_translations(self, resource_id: str, languages: list[str]) -> list[str]:
        """One translation-requested per language not yet translated nor already requested."""
        def work(session: ClientSession) -> list[str]:
            resource = self.store.resource(resource_id, session=session)
            if resource is None:
                raise NotFound(resource_id)
            asked = [translations.request_id(resource_id, language) for language in languages]
            wanted = translations.languages_to_request(resource, languages,
                                                       self.store.requested_languages(asked, session=session))
            now = utcnow_iso()
            made = [translations.translation_request(resource, language, now) for language in wanted]
            self.store.insert_requests(session, [request for request, _ in made],
                                       [("translation-requested", event) for _, event in made])
            return wanted

        return self.store.transaction(work)

    # -- reading

    def search(self, text: str | None, *, topic=None, language=None, kind=None, clinic=None,
               before: tuple[str, str] | None = None, limit: int = 20) -> tuple[list[dict], tuple[str, str] | None]:
        """(the newest `limit` matches older than `before`, the position of the next page or None)."""
        self.index.refresh(lambda since: self.store.changed_since(since, INDEX_FIELDS))
        ids = self.index.search(query_tokens(text) if text else [], topic=topic, language=language, kind=kind,
                                clinic=clinic, before=before, limit=limit + 1)
        found = self.store.resources_by_id(ids)
        for missing in set(ids) - set(found):
            self.index.forget(missing)  # deleted by another process
        docs = [found[i] for i in ids if i in found][:limit]
        more = len(ids) > limit and docs
        return docs, ((docs[-1]["published_at"], docs[-1]["_id"]) if more else None)

    def wikitext(self) -> str:
        return render([r for r in self.store.all_resources() if not rules.is_hidden(r)])

    # -- what other services tell it (handlers.py)

    def publish_recording(self, session: ClientSession, completed: dict) -> None:
        """A completed session's recording, once per clinic, only with everyone's consent."""
        data = rules.recording_from_session(completed)
        if data is None:
            return
        resource_id = rules.recording_resource_id(completed["clinic_id"])
        if self.store.resource(resource_id, session=session) is not None:
            return
        resource = rules.new_resource(data, resource_id=resource_id, owner=None, now=utcnow_iso())
        self.store.publish(resource, [("resource-published", rules.published_event(resource))], session=session)

    def forget_participant(self, session: ClientSession, participant_id: str) -> None:
        """Attribution published under an open licence stays; every link to the person goes (as
        owner, as proposer of a translation)."""
        self.store.unlink_person(session, participant_id)
