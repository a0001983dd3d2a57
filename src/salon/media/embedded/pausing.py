"""Pausing simulcast encodings nobody takes (issue 18, "a layer nobody needs is paused";
docs/media-design.md §6.11).

A publisher's browser encodes and sends all its encodings whether or not anyone
receives them: the top one alone is most of its uplink and of its encoder's CPU. The
server knows which encodings some slot takes or waits for (`Encoding.slots`); one that
no slot has needed for `PAUSE_AFTER_SECS` is paused — its publisher is told to stop
sending it (`media.encodings`) — and a slot that asks for it again resumes it at once
(`Published.retarget`).

The lowest encoding is never paused: a new subscriber starts on it without waiting for
the publisher, and it keeps the track's frame rate measurable. Pure: no I/O.
"""

from collections.abc import Sequence

from salon.media.embedded.encoding import Encoding

#: An encoding no slot has taken or waited for this long is paused: long enough that a
#: subscriber's probe of it and back does not start and stop it every few seconds.
PAUSE_AFTER_SECS = 5.0
#: A resumed encoding that some slot waits for but that still sends nothing this long
#: after the publisher was told: tell it again (the message may have been lost, or the
#: client may have set its sender up anew since).
RETELL_SECS = 5.0


def review(encodings: Sequence[Encoding], now: float) -> list[tuple[Encoding, bool]]:
    """(encoding, paused) for each encoding whose state should change now; `encodings`
    are low to high and `now` is on the downlinks' clock (monotonic).

    Each encoding's rates are measured here too, so that what a paused one costs is
    known even if nobody subscribed while it was sent. An encoding that is not sending
    is never paused: with nothing measured, nobody would ever ask for it back. Nothing
    is paused until the encodings' order is known (the lowest has sent a keyframe)."""
    if not encodings or not encodings[0].height:
        return []
    changes = []
    for encoding in encodings:
        sending = encoding.layer_rates(now)[-1] > 0
        if encoding is encodings[0] or encoding.slots:
            encoding.unneeded_since = None
            if encoding.paused:
                changes.append((encoding, False))
        elif encoding.paused:
            continue
        elif encoding.unneeded_since is None:
            encoding.unneeded_since = now
        elif now - encoding.unneeded_since >= PAUSE_AFTER_SECS and sending:
            changes.append((encoding, True))
    return changes


def to_retell(encodings: Sequence[Encoding], now: float) -> bool:
    """Whether to tell the publisher its encodings again: one it was told to send again
    (`Encoding.told_at`, set when resumed) is needed and has sent nothing for
    RETELL_SECS. Call after `review` (which measured the rates)."""
    retell = False
    for encoding in encodings:
        if encoding.told_at is None or encoding.paused:
            continue
        if encoding.rate > 0:
            encoding.told_at = None  # it came back
        elif encoding.slots and now - encoding.told_at >= RETELL_SECS:
            encoding.told_at = now
            retell = True
    return retell
