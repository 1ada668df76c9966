"""A poll's records are applied type by type in the order the service lists its handlers."""
from collections import namedtuple

from shared.bus import in_handler_order

Record = namedtuple("Record", "topic offset")
TOPICS = {"lc.participant-registered": "participant-registered", "lc.match-proposed": "match-proposed",
          "lc.participant-withdrawn": "participant-withdrawn"}
HANDLERS = {"participant-registered": object(), "participant-withdrawn": object(), "match-proposed": object()}


def test_types_come_in_the_handlers_order_not_the_order_their_partitions_arrived_in():
    batches = {("lc.match-proposed", 0): [Record("lc.match-proposed", 7), Record("lc.match-proposed", 8)],
               ("lc.participant-registered", 1): [Record("lc.participant-registered", 3)],
               ("lc.participant-registered", 0): [Record("lc.participant-registered", 5)]}
    ordered = in_handler_order(batches, TOPICS, HANDLERS)
    assert list(ordered) == ["participant-registered", "match-proposed"]  # no withdrawal in this poll
    assert [r.offset for r in ordered["participant-registered"]] == [3, 5]  # each partition's records in order
    assert [r.offset for r in ordered["match-proposed"]] == [7, 8]
