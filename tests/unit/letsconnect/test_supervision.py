"""When `letsconnect up` restarts a crashed process, and when it gives up."""
from letsconnect.supervision import RestartPolicy, describe_exit


def test_pauses_grow_with_each_crash_up_to_a_ceiling():
    policy = RestartPolicy(max_crashes=10, window_seconds=600, first_delay=1, max_delay=8)
    crashes, delays = [], []
    for moment in range(6):
        crashes.append(float(moment))
        delays.append(policy.delay(crashes, float(moment)))
    assert delays == [1, 2, 4, 8, 8, 8]


def test_gives_up_after_repeated_crashes_within_the_window():
    policy = RestartPolicy(max_crashes=3, window_seconds=60)
    assert policy.delay([0.0], 0.0) == 1
    assert policy.delay([0.0, 5.0], 5.0) == 2
    assert policy.delay([0.0, 5.0, 10.0], 10.0) is None


def test_crashes_older_than_the_window_are_forgotten():
    policy = RestartPolicy(max_crashes=3, window_seconds=60)
    assert policy.delay([0.0, 5.0, 100.0], 100.0) == 1  # ran well for a while: short pause again
    assert policy.delay([0.0, 5.0, 50.0, 100.0], 100.0) == 2


def test_an_exit_is_described_by_its_signal_or_status():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(1) == "exit status 1"
    assert describe_exit(75) == "exit status 75"
