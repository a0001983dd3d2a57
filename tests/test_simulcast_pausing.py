"""Pausing simulcast encodings nobody takes (issue 18; docs/media-design.md §6.11): the
rule (`pausing.review`), what a paused encoding still costs for the selector, and a
`Published` telling its publisher, with the fake receiver and slots of
tests/test_simulcast.py. The publisher's side (the Python client and Chromium stop
sending) is in tests/media/test_simulcast_client.py and tests/e2e/test_simulcast.py."""

import asyncio
from types import SimpleNamespace

from salon.media.backend import TrackInfo
from salon.media.embedded.downlink import Downlink
from salon.media.embedded.encoding import RESUME_GRACE_WINDOWS, Encoding
from salon.media.embedded.forward import Published
from salon.media.embedded.pausing import PAUSE_AFTER_SECS, RETELL_SECS, review, to_retell
from tests.test_simulcast import fake_receiver, slot

RATES = (150_000, 500_000, 1_500_000)  # q, h, f: bits/s


def encodings(*heights: int) -> list[Encoding]:
    out = []
    for n, height in enumerate(heights):
        encoding = Encoding("qhf"[n])
        encoding.ssrc, encoding.height = n + 1, height
        out.append(encoding)
    return out


def send_for(encodings: list[Encoding], seconds: float, *, paused_too: bool = False) -> None:
    """What each encoding sends in `seconds` at its rate (a paused one sends nothing)."""
    for encoding, rate in zip(encodings, RATES, strict=False):
        if paused_too or not encoding.paused:
            encoding.layer_bytes[0] += int(rate * seconds / 8)


def run(encodings: list[Encoding], start: float, until: float) -> dict[str, list]:
    """Review once a second from `start` to `until`; the changes by RID, in order."""
    changes: dict[str, list] = {}
    now = start
    while now <= until:
        for encoding, paused in review(encodings, now):
            encoding.pause() if paused else encoding.resume(now)
            changes.setdefault(encoding.rid, []).append((now, paused))
        send_for(encodings, 1.0)
        now += 1.0
    return changes


def test_an_encoding_nobody_takes_is_paused_after_a_while_but_never_the_lowest() -> None:
    q, h, f = found = encodings(135, 270, 540)
    h.slots.add(object())  # type: ignore[arg-type]
    changes = run(found, 0.0, 12.0)
    assert list(changes) == ["f"]
    (when, paused), = changes["f"]
    assert paused and PAUSE_AFTER_SECS <= when <= PAUSE_AFTER_SECS + 2
    assert f.paused and not q.paused and not h.paused
    # what it cost before the pause still stands for it (the selector's rates)
    assert abs(f.layer_rates(13.0)[-1] - RATES[2]) < 0.05 * RATES[2]
    assert f.rate == 0  # though nothing is measured: the publisher stopped sending


def test_a_slot_that_takes_it_again_resumes_it_at_the_next_review() -> None:
    found = encodings(135, 270, 540)
    run(found, 0.0, 8.0)
    assert [e.paused for e in found] == [False, True, True]
    found[1].slots.add(object())  # type: ignore[arg-type]
    changes = run(found, 9.0, 9.0)
    assert changes == {"h": [(9.0, False)]}
    assert found[1].unneeded_since is None


def test_nothing_is_paused_before_the_order_is_known_or_while_it_does_not_send() -> None:
    unordered = encodings(0, 0, 0)
    assert run(unordered, 0.0, 10.0) == {}
    silent = encodings(135, 270, 540)
    for n in range(11):  # f never sends: with nothing measured, nobody would ask it back
        for encoding, paused in review(silent, float(n)):
            encoding.pause() if paused else encoding.resume(float(n))
        send_for(silent[:2], 1.0)
    assert [e.paused for e in silent] == [False, True, False]


def test_a_resumed_encoding_that_never_sends_again_is_given_up_after_its_grace() -> None:
    """The publisher ignores the resume (or cannot send it): after a few windows of
    nothing, its old rates go, and the selector sees it as not sending."""
    f = encodings(135, 270, 540)[2]
    f.layer_bytes[0] = 0
    f.layer_rates(0.0)
    f.layer_bytes[0] += RATES[2] // 8
    assert f.layer_rates(1.0)[-1] > 0
    f.pause()
    f.resume(1.5)
    seen = [f.layer_rates(2.0 + n)[-1] for n in range(RESUME_GRACE_WINDOWS + 1)]
    assert all(rate > 0 for rate in seen[:-1]) and seen[-1] == 0


def publisher(events: list) -> Published:
    pub = Published(TrackInfo("p:video", "p", "video", "video/VP8", "1"),
                    SimpleNamespace(kind="video"), fake_receiver([]))
    pub.payload_types = frozenset({96})
    pub.set_simulcast(("q", "h", "f"))
    pub.forwarding = True
    for n, (encoding, height) in enumerate(zip(pub.encodings, (135, 270, 540),
                                               strict=True)):
        encoding.ssrc, encoding.height = n + 1, height
    pub.on_encodings = lambda p: events.append(p.encoding_states())
    return pub


async def test_the_publisher_is_told_and_a_subscriber_that_can_take_it_resumes_it() -> None:
    events: list = []
    pub = publisher(events)
    ds, _, _ = slot()
    ds.attach(pub)
    now = [0.0]
    downlink = Downlink(lambda: [ds], 300_000, clock=lambda: now[0])
    for second in range(8):  # a 300 kbit/s subscriber: the low encoding only
        now[0] = float(second)
        send_for(pub.encodings, 1.0)
        downlink.estimate.value = 300_000
        downlink.apply()
        pub.review_encodings(now[0])
    assert ds.spatial_target is pub.encodings[0]
    # h first (never taken), f a second later (taken until the first rates came)
    assert events == [[{"rid": "q", "active": True}, {"rid": "h", "active": False},
                       {"rid": "f", "active": True}],
                      [{"rid": "q", "active": True}, {"rid": "h", "active": False},
                       {"rid": "f", "active": False}]]
    assert [e["active"] for e in pub.stats()["encodings"]] == [True, False, False]
    assert pub.default_encoding() is pub.encodings[0]  # a newcomer starts on what is sent
    # the link clears: the selector still knows what f costs, asks for it, resumes it
    now[0] = 9.0
    send_for(pub.encodings, 1.0)
    downlink.estimate.value = 5_000_000
    downlink.apply()
    assert ds.spatial_target is pub.encodings[2]
    assert events[-1] == [{"rid": "q", "active": True}, {"rid": "h", "active": False},
                          {"rid": "f", "active": True}]
    assert pub.default_encoding() is pub.encodings[2]
    await asyncio.sleep(0)


async def test_a_track_without_subscribers_keeps_only_its_lowest_encoding() -> None:
    """Alone in the room: h and f are paused; the first subscriber starts on q and the
    selector takes it up as soon as its link allows."""
    events: list = []
    pub = publisher(events)
    for second in range(7):
        send_for(pub.encodings, 1.0)
        pub.review_encodings(float(second))
    assert [e.paused for e in pub.encodings] == [False, True, True]
    ds, _, _ = slot()
    ds.attach(pub)
    assert ds.spatial_target is pub.encodings[0]
    downlink = Downlink(lambda: [ds], 2_500_000, clock=lambda: 7.0)
    downlink.apply()
    assert ds.spatial_target is pub.encodings[2] and not pub.encodings[2].paused
    await asyncio.sleep(0)


def test_a_publisher_that_does_not_send_what_it_was_asked_back_is_told_again() -> None:
    """The resume was lost (or the client set its sender up anew): a slot waits for f,
    which sends nothing; the publisher is told again every RETELL_SECS until it sends."""
    found = encodings(135, 270, 540)
    run(found, 0.0, 8.0)
    f = found[2]
    assert f.paused
    f.slots.add(object())  # type: ignore[arg-type]
    told = []
    now = 9.0
    while now <= 9.0 + 2 * RETELL_SECS + 1:
        for encoding, paused in review(found, now):
            encoding.pause() if paused else encoding.resume(now)
        if to_retell(found, now):
            told.append(now)
        send_for(found[:2], 1.0)  # q and h only: f never comes
        now += 1.0
    assert not f.paused and told == [9.0 + RETELL_SECS, 9.0 + 2 * RETELL_SECS]
    send_for(found, 1.0, paused_too=True)  # it comes back: no more telling
    review(found, now)
    assert not to_retell(found, now + RETELL_SECS) and f.told_at is None
