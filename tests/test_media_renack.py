"""`renack.Renack`: missing packets are asked for again every AGAIN_SECS, at most
MAX_ASKS times each, and those that arrived are never asked for again."""

from salon.media.embedded.renack import AGAIN_SECS, MAX_ASKS, Renack


def test_missing_packets_are_asked_for_again_after_a_while() -> None:
    renack = Renack()
    missing = {10, 11}
    renack.asked(missing, now=0.0)
    assert renack.due(missing, now=AGAIN_SECS / 2) == []  # too soon
    assert renack.due(missing, now=AGAIN_SECS) == [10, 11]
    assert renack.due(missing, now=AGAIN_SECS * 1.5) == []  # just asked again
    missing.discard(10)  # it arrived
    assert renack.due(missing, now=AGAIN_SECS * 2) == [11]


def test_a_packet_is_asked_for_at_most_max_asks_times() -> None:
    renack = Renack()
    missing = {7}
    renack.asked(missing, now=0.0)
    asks = 1
    now = 0.0
    for _ in range(3 * MAX_ASKS):
        now += AGAIN_SECS
        asks += len(renack.due(missing, now))
    assert asks == MAX_ASKS
    missing.add(8)  # a new gap still gets its asks
    renack.asked({8}, now)
    assert renack.due(missing, now + AGAIN_SECS) == [8]


def test_nothing_missing_nothing_due() -> None:
    assert Renack().due(set(), now=100.0) == []
