"""Slot suggestion across time zones, odd offsets and daylight-saving changes."""
from datetime import date, datetime, timezone

from hypothesis import given, settings, strategies as st

from services.scheduler.domain.suggest import fits, suggest_slots


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def test_kathmandu_quarter_hour_offset():
    # +05:45: 02:15 UTC is 08:00 local, 02:00 UTC is 07:45.
    assert fits(utc(2026, 3, 2, 2, 15), 90, "Asia/Kathmandu")
    assert not fits(utc(2026, 3, 2, 2, 0), 90, "Asia/Kathmandu")
    # 13:45 UTC is 19:30 local: 90 minutes end at 21:00 exactly.
    assert fits(utc(2026, 3, 2, 13, 45), 90, "Asia/Kathmandu")
    assert not fits(utc(2026, 3, 2, 14, 0), 90, "Asia/Kathmandu")


def test_st_johns_half_hour_offset_and_its_dst():
    # Winter -03:30: 11:30 UTC is 08:00. Summer -02:30: 11:30 UTC is 09:00, 10:30 UTC is 08:00.
    assert fits(utc(2026, 1, 15, 11, 30), 90, "America/St_Johns")
    assert not fits(utc(2026, 1, 15, 11, 0), 90, "America/St_Johns")
    assert fits(utc(2026, 7, 15, 10, 30), 90, "America/St_Johns")
    assert not fits(utc(2026, 1, 15, 10, 30), 90, "America/St_Johns")


def test_casablanca_ramadan_switch():
    # Morocco is +01:00 most of the year and +00:00 during Ramadan (mid Feb-Mar 2026).
    assert fits(utc(2026, 1, 10, 7, 0), 60, "Africa/Casablanca")        # 08:00 local
    assert not fits(utc(2026, 3, 1, 7, 0), 60, "Africa/Casablanca")     # 07:00 local in Ramadan
    assert fits(utc(2026, 3, 1, 8, 0), 60, "Africa/Casablanca")


def test_lord_howe_half_hour_daylight_saving():
    # +11:00 in (southern) summer, +10:30 in winter: 21:00 UTC is 08:00 in January, 07:30 in July.
    assert fits(utc(2026, 1, 14, 21, 0), 90, "Australia/Lord_Howe")
    assert not fits(utc(2026, 7, 14, 21, 0), 90, "Australia/Lord_Howe")
    assert fits(utc(2026, 7, 14, 21, 30), 90, "Australia/Lord_Howe")


def test_a_dst_change_day_moves_the_local_window():
    # New York springs forward on 8 March 2026: 12:00 UTC is 07:00 before, 08:00 after.
    assert not fits(utc(2026, 3, 7, 12, 0), 90, "America/New_York")
    assert fits(utc(2026, 3, 9, 12, 0), 90, "America/New_York")
    # Same person, the suggestion's count follows the date's offset.
    before = {s.start.hour for s in suggest_slots({"ny": "America/New_York"}, date(2026, 3, 7), how_many=1)}
    people = {"ny": "America/New_York", "ber": "Europe/Berlin"}
    [shared_before] = suggest_slots(people, date(2026, 3, 7), how_many=1)
    [shared_after] = suggest_slots(people, date(2026, 3, 9), how_many=1)
    assert before and shared_before.count == shared_after.count == 2
    # Berlin's day ends at 21:00 (20:00 UTC in winter); New York's starts at 13:00 UTC before the
    # change and 12:00 UTC after it, so the earliest slot that suits both moves an hour earlier.
    assert shared_before.start == utc(2026, 3, 7, 13, 0) and shared_after.start == utc(2026, 3, 9, 12, 0)


def test_a_slot_never_crosses_local_midnight():
    assert not fits(utc(2026, 3, 2, 23, 0), 90, "UTC")


def test_two_slots_reach_people_no_single_slot_can():
    people = {"ktm": "Asia/Kathmandu", "del": "Asia/Kolkata", "yyt": "America/St_Johns", "lim": "America/Lima",
              "lhi": "Australia/Lord_Howe"}
    first, second = suggest_slots(people, date(2026, 7, 1))
    covered = {pid for pid, zone in people.items() if fits(first.start, 90, zone) or fits(second.start, 90, zone)}
    assert covered == set(people)
    assert first.start < second.start and first.count + second.count >= 5
    assert first.count == sum(fits(first.start, 90, zone) for zone in people.values())


def test_nobody_interested_means_no_suggestion():
    assert suggest_slots({}, date(2026, 7, 1)) == []


ZONES = ["Asia/Kathmandu", "America/St_Johns", "Africa/Casablanca", "Australia/Lord_Howe", "Europe/Berlin",
         "Pacific/Chatham", "Asia/Tehran", "America/Sao_Paulo", "Africa/Lagos"]


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=4), st.sampled_from(ZONES), min_size=1, max_size=6),
       st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
def test_the_counts_are_true_and_the_pair_beats_any_single_slot(people, day):
    chosen = suggest_slots(people, day)
    for suggestion in chosen:
        assert suggestion.count == sum(fits(suggestion.start, 90, zone) for zone in people.values())
    reached = set().union(*(s.people for s in chosen))
    assert len(reached) >= max(s.count for s in chosen)
