"""The voice backlog's arithmetic (salon.media.embedded.backlog): the last seconds only,
strictly before a timestamp on a 32-bit clock that wraps, in a subscriber's numbering."""

from salon.media.embedded.backlog import BACKLOG_SECS, MAX_PACKETS, VoiceBacklog, as_received

FRAME = 960


def _filled(first_ts: int, count: int, start: float = 100.0) -> VoiceBacklog:
    backlog = VoiceBacklog()
    for i in range(count):
        backlog.keep((first_ts + i * FRAME) & 0xFFFFFFFF, bytes([i % 256]), start + i * 0.02)
    return backlog


def test_only_what_came_before_the_timestamp_and_within_the_window() -> None:
    backlog = _filled(1000, 250)  # 5 s, from t=100.00 to t=104.98
    now = 104.99
    assert [p[1] for p in backlog.before(1000 + 10 * FRAME, now)] == [
        1000 + i * FRAME for i in range(10)]
    assert backlog.before(1000, now) == []  # nothing before the first
    assert len(backlog.before(1000 + 250 * FRAME, now)) == 250
    # A second later, the first second's packets are older than the window.
    later = backlog.before(1000 + 250 * FRAME, now + 1.0)
    assert len(later) == 200 and all(now + 1.0 - at <= BACKLOG_SECS for at, _, _ in later)


def test_since_leaves_out_what_was_received_before_it() -> None:
    backlog = _filled(1000, 100)  # t=100.00 .. 101.98
    got = backlog.before(1000 + 100 * FRAME, 102.0, since=101.0)
    assert [at for at, _, _ in got] == [100.0 + i * 0.02 for i in range(50, 100)]


def test_the_clock_wraps() -> None:
    start = 2**32 - 5 * FRAME
    backlog = _filled(start, 10)  # five before the wrap, five after
    got = [p[1] for p in backlog.before((start + 10 * FRAME) & 0xFFFFFFFF, 101.0)]
    assert got == [(start + i * FRAME) & 0xFFFFFFFF for i in range(10)]
    assert len(backlog.before(0, 101.0)) == 5  # 0 comes after the five before the wrap


def test_a_subscribers_numbering_is_the_sources_plus_its_offset() -> None:
    backlog = _filled(5000, 20)
    offset = 2**32 - 3000  # a subscriber whose stream started below the source's
    theirs = as_received(backlog, offset, (5000 + 20 * FRAME + offset) & 0xFFFFFFFF, 101.0)
    assert [t for _, t, _ in theirs] == [(5000 + i * FRAME + offset) & 0xFFFFFFFF
                                         for i in range(20)]
    assert [p for _, _, p in theirs] == [bytes([i]) for i in range(20)]


def test_it_holds_a_bounded_number_of_packets() -> None:
    backlog = _filled(0, MAX_PACKETS + 100, start=0.0)
    assert len(backlog.before(0x7FFFFFFF, (MAX_PACKETS + 100) * 0.02)) <= MAX_PACKETS
