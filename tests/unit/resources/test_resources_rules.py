"""The resource space's decisions without a database: the recording-consent rule (once, for
publishing, changing and session recordings), who may change a resource, translations and
translation requests, the figures."""
import pytest

from services.resources.domain import resources as rules
from services.resources.domain import translations
from services.resources.domain.errors import NotOwner, RecordingWithoutConsent, TooManyProposals
from services.resources.domain.figures import space_figures

DATA = {"title": "Budget basics", "description": "How we planned our budget", "kind": "deck",
        "url": "https://x.org/a.pdf", "language": "en", "topics": ["budget-development"], "clinic": None,
        "authors": ["Ahmed"], "license": "CC-BY-SA-4.0", "consent": False}


def published(**changes):
    return rules.new_resource({**DATA, **changes}, resource_id="r1", owner="p1", now="2026-11-01T00:00:00.000Z")


def test_a_published_resource_is_searchable_by_its_title_and_description():
    resource = published()
    assert resource["tokens"] == ["basics", "budget", "how", "our", "planned", "we"]
    assert resource["translations"] == [] and resource["owner"] == "p1" and resource["clinic_id"] is None


def test_a_recording_needs_everyones_consent_when_published_and_when_changed():
    with pytest.raises(RecordingWithoutConsent):
        published(kind="recording")
    assert published(kind="recording", consent=True)["kind"] == "recording"
    with pytest.raises(RecordingWithoutConsent):
        rules.changed_resource(published(), {"kind": "recording"}, "t")
    assert rules.recording_consent_missing("recording", None) and not rules.recording_consent_missing("deck", None)


def test_a_change_keeps_the_rest_stores_the_clinic_and_recomputes_tokens():
    changed = rules.changed_resource(published(), {"title": "Fundraising", "clinic": "c9"}, "2026-11-02T00:00:00.000Z")
    assert changed["clinic_id"] == "c9" and "clinic" not in changed
    assert "fundraising" in changed["tokens"] and "basics" not in changed["tokens"]
    assert changed["updated_at"] == "2026-11-02T00:00:00.000Z" and changed["published_at"] == "2026-11-01T00:00:00.000Z"


def test_only_the_publisher_or_staff_may_change_a_resource():
    resource = published()
    assert rules.may_change(resource, "p1", False) and rules.may_change(resource, "p2", True)
    assert not rules.may_change(resource, "p2", False)
    assert not rules.may_change({**resource, "owner": None}, "p1", False)  # an erased owner's, or the program's
    with pytest.raises(NotOwner):
        rules.require_may_change(resource, "p2", False)


def test_a_completed_session_becomes_a_recording_only_with_a_link_and_consent():
    session = {"clinic_id": "c1", "title": "Budgets", "topics": ["budget-development"], "language": "fr",
               "recording_url": "https://commons.example.org/c1.webm", "recording_consent": True}
    recording = rules.recording_from_session(session)
    assert recording["kind"] == "recording" and recording["consent"] is True and recording["clinic"] == "c1"
    assert recording["authors"] == ["Let's Connect"] and recording["language"] == "fr"
    assert rules.recording_from_session({**session, "recording_consent": False}) is None
    assert rules.recording_from_session({**session, "recording_url": None}) is None
    assert rules.recording_resource_id("c1") == "recording-c1"


def test_a_recording_names_its_consent_basis_and_staff_clearance_publishes_it():
    session = {"clinic_id": "c1", "title": "Budgets", "topics": ["budget-development"], "language": "fr",
               "recording_url": "https://commons.example.org/c1.webm"}
    everyone = rules.recording_from_session({**session, "recording_consent": True,
                                             "recording_consent_basis": "every_attendee_consented"})
    assert "every attendee consented" in everyone["description"]
    cleared = rules.recording_from_session({**session, "recording_consent_basis":
                                            "staff_confirmed_unconsented_not_recorded"})  # clinic-recording-cleared
    assert cleared and "staff confirmed" in cleared["description"]
    assert rules.recording_from_session({**session, "recording_consent": False, "recording_pending": True}) is None


def test_a_translation_replaces_the_earlier_one_in_its_language_only():
    resource = {**published(), "translations": [{"language": "ar", "title": "old", "url": "https://x.org/old"},
                                               {"language": "fr", "title": "fr", "url": "https://x.org/fr"}]}
    kept = translations.with_translation(resource, {"language": "ar", "title": "new", "url": "https://x.org/new"}, "t")
    assert [(t["language"], t["title"]) for t in kept] == [("fr", "fr"), ("ar", "new")]
    assert kept[-1]["added_at"] == "t"


def test_translators_are_asked_once_per_language_not_for_the_original_or_what_exists():
    resource = {**published(), "translations": [{"language": "fr", "title": "fr", "url": "https://x.org/fr"}]}
    assert translations.languages_to_request(resource, ["ar", "en", "fr", "es", "ar"], {"es"}) == ["ar"]
    request, event = translations.translation_request(resource, "ar", "t")
    assert request == {"_id": "r1:ar", "resource_id": "r1", "language": "ar", "status": "open", "requested_at": "t"}
    assert event["request_id"] == "r1:ar" and event["source_language"] == "en" and event["subject_kind"] == "resource"


def test_figures_count_kinds_languages_topics_and_translated_share():
    figures = space_figures([{"kind": "deck", "language": "en", "topics": ["a", "b"], "translations": []},
                             {"kind": "recording", "language": "ar", "topics": ["a"], "translations": [{}]}], 3)
    assert figures == {"resources": 2, "by_kind": {"deck": 1, "recording": 1}, "by_language": {"en": 1, "ar": 1},
                       "by_topic": {"a": 2, "b": 1}, "translated_share": 0.5, "translation_requests_open": 3}


def test_a_proposal_sits_beside_the_owners_links_and_replaces_only_its_proposers_earlier_one():
    resource = {**published(), "translations": [{"language": "ar", "title": "x", "url": "https://x.org/owner-ar"}]}
    mine = translations.with_proposal(resource, {"language": "ar", "title": "y", "url": "https://x.org/a"}, "p2", "t1")
    resource = {**resource, "proposals": mine}
    theirs = translations.with_proposal(resource, {"language": "ar", "title": "z", "url": "https://x.org/b"}, "p3", "t2")
    resource = {**resource, "proposals": theirs}
    again = translations.with_proposal(resource, {"language": "ar", "title": "w", "url": "https://x.org/c"}, "p2", "t3")
    assert [(p["url"], p["proposed_by"]) for p in again] == [("https://x.org/b", "p3"), ("https://x.org/c", "p2")]
    assert resource["translations"] == [{"language": "ar", "title": "x", "url": "https://x.org/owner-ar"}]


def test_adopting_a_proposal_removes_it_and_too_many_proposals_are_refused():
    proposals = [{"language": "ar", "url": "https://x.org/a", "proposed_by": "p2"},
                 {"language": "fr", "url": "https://x.org/a", "proposed_by": "p2"}]
    left = translations.adopting({"proposals": proposals}, {"language": "ar", "url": "https://x.org/a"})
    assert left == [proposals[1]]
    crowded = {**published(), "proposals": [{"language": "ar", "url": f"https://x.org/{i}", "proposed_by": f"p{i}"}
                                            for i in range(translations.MAX_PROPOSALS)]}
    with pytest.raises(TooManyProposals):
        translations.with_proposal(crowded, {"language": "ar", "title": "t", "url": "https://x.org/new"}, "new", "t")
