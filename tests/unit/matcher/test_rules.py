"""Each hard rule on its own (services/matcher/domain/rules.py)."""
from datetime import date

from services.matcher.domain.rules import (
    common_languages, different_groups, group_is_valid, overlap, pair_key, violation,
)
from tests.unit.matcher.people import DAY, person, sharer


def check(learner, their_sharer, blocked=(), connected=(), **window):
    return violation(learner, their_sharer, set(blocked), set(connected), DAY, **window)


def test_people_must_share_a_language():
    assert common_languages(person("a", languages=("fr", "ar")), sharer("b", languages=("ar", "fr"))) == ["fr", "ar"]
    assert check(person("a", languages=("es",)), sharer("b", languages=("pt",))) == "no_common_language"
    assert check(person("a", languages=("es", "pt")), sharer("b", languages=("pt",))) is None


def test_time_zones_need_an_hour_inside_both_local_days():
    assert overlap("Africa/Cairo", "Asia/Amman", DAY)[0] >= 12 * 60
    # Two 13-hour days always share some time on the clock (Los Angeles evening, Kolkata morning) ...
    assert overlap("America/Los_Angeles", "Asia/Kolkata", DAY)[0] == 150
    # ... a narrower local day does not.
    assert overlap("America/Los_Angeles", "Asia/Kolkata", DAY, 9, 17)[0] < 60
    far = (person("a", tz="America/Los_Angeles", languages=("en",)), sharer("b", tz="Asia/Kolkata", languages=("en",)))
    assert check(*far, start_hour=9, end_hour=17) == "no_time_overlap"
    assert check(*far) is None
    assert check(*far, min_overlap=180) == "no_time_overlap"  # the minimum is configurable too


def test_the_overlap_is_reported_in_utc():
    minutes, start, end = overlap("Europe/Paris", "Europe/Paris", DAY)
    assert minutes == 13 * 60 and (start.hour, end.hour) == (7, 20)  # 08:00-21:00 CET


def test_half_hour_zones_and_daylight_saving_are_respected():
    kathmandu = overlap("Asia/Kathmandu", "Asia/Kathmandu", DAY)
    assert kathmandu[0] == 13 * 60 and kathmandu[1].minute == 15  # 08:00 +05:45 is 02:15 UTC
    winter = overlap("America/New_York", "Europe/London", date(2026, 1, 14), 9, 17)[0]
    march_gap = overlap("America/New_York", "Europe/London", date(2026, 3, 18), 9, 17)[0]  # US moved, UK not yet
    summer = overlap("America/New_York", "Europe/London", date(2026, 7, 15), 9, 17)[0]
    assert (winter, march_gap, summer) == (180, 240, 180)  # five hours apart, then four, then five


def test_people_of_the_same_organised_group_are_not_matched():
    assert not different_groups(person("a", group="WM Egypt"), person("b", group="wm  egypt"))
    assert check(person("a", group="X"), sharer("b", group="x")) == "same_group"
    no_group = dict(person("c"), group=None)
    assert different_groups(no_group, dict(sharer("d"), group=None))


def test_declined_pairs_are_never_proposed_again():
    assert check(person("a"), sharer("b"), blocked={pair_key("b", "a")}) == "declined_before"


def test_people_connected_on_a_topic_are_not_connected_on_it_again():
    connected = {(pair_key("a", "b"), "budget-development")}
    assert check(person("a"), sharer("b"), connected=connected) == "already_connected"
    assert check(person("a", topic="governance"), sharer("b", topic="governance"), connected=connected) is None


def test_nobody_is_matched_with_themselves_or_across_topics():
    assert check(person("a"), sharer("a")) == "same_person"
    assert check(person("a"), sharer("b", topic="governance")) == "different_topic"


def test_a_connection_is_one_sharer_and_up_to_three_learners_of_its_topic_and_language():
    learners = [person(f"l{i}") for i in range(4)]
    assert group_is_valid(sharer("s"), learners[:3], "ar")
    assert not group_is_valid(sharer("s"), learners, "ar")
    assert not group_is_valid(sharer("s"), [], "ar")
    assert not group_is_valid(sharer("s", languages=("fr",)), learners[:2], "ar")
    assert not group_is_valid(sharer("s"), [person("x", topic="governance")], "ar")
