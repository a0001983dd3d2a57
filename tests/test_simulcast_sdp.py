"""Simulcast in SDP (salon.client.media.simulcast_sdp): the publish offer's munging and
reading the server's answer. Pure text, no network."""

import pytest

from salon.client.media.simulcast_sdp import (
    MID_URI,
    RID_URI,
    accepted_rids,
    extmap_id,
    offer_simulcast,
)

#: An aiortc publish offer (trimmed): audio on mid 0, video on mid 1 with its SSRC lines.
OFFER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 96", "a=mid:0", "a=sendonly",
    f"a=extmap:1 {MID_URI}", "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=rtpmap:96 opus/48000/2", "a=ssrc:111 cname:x",
    "m=video 9 UDP/TLS/RTP/SAVPF 97", "a=mid:1", "a=sendonly",
    f"a=extmap:1 {MID_URI}",
    "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=rtpmap:97 VP8/90000", "a=ssrc-group:FID 222 333", "a=ssrc:222 cname:x",
    "a=ssrc:333 cname:x", ""])


def section(sdp: str, mid: str) -> list[str]:
    parts = sdp.split("m=")
    return next(("m=" + p).split("\r\n") for p in parts[1:] if f"a=mid:{mid}\r\n" in p)


def test_the_offer_names_three_rids_and_no_ssrc_on_the_video_section() -> None:
    sdp = offer_simulcast(OFFER, "1", ["q", "h", "f"])
    video = section(sdp, "1")
    assert [line for line in video if line.startswith(("a=rid", "a=simulcast"))] == [
        "a=rid:q send", "a=rid:h send", "a=rid:f send", "a=simulcast:send q;h;f"]
    assert not [line for line in video if line.startswith("a=ssrc")]
    assert f"a=extmap:1 {MID_URI}" in video
    # a header-extension id that no section of the BUNDLE group uses
    assert f"a=extmap:4 {RID_URI}" in video
    assert extmap_id(sdp, "1", RID_URI) == 4
    # the audio section is untouched, and the result is still CRLF SDP
    assert section(sdp, "0") == section(OFFER, "0")
    assert sdp.endswith("\r\n") and "\n" not in sdp.replace("\r\n", "")


def test_the_offer_is_munged_once_and_an_unknown_mid_changes_nothing() -> None:
    once = offer_simulcast(OFFER, "1", ["q", "h", "f"])
    assert offer_simulcast(once, "1", ["q", "h", "f"]) == once
    assert offer_simulcast(OFFER, "7", ["q"]) == OFFER


def test_no_free_extension_id_is_an_error() -> None:
    full = OFFER.replace("a=mid:1\r\n", "a=mid:1\r\n" + "".join(
        f"a=extmap:{i} urn:x:{i}\r\n" for i in range(4, 15)))
    with pytest.raises(ValueError):
        offer_simulcast(full, "1", ["q", "f"])


def answer(*lines: str) -> str:
    return OFFER.replace("a=sendonly", "a=recvonly").replace(
        "a=mid:1\r\n", "a=mid:1\r\n" + "".join(line + "\r\n" for line in lines))


def test_an_answer_that_accepts_simulcast_gives_its_rids_in_order() -> None:
    sdp = answer(f"a=extmap:4 {RID_URI}", "a=rid:q recv", "a=rid:h recv", "a=rid:f recv",
                 "a=simulcast:recv q;h;f")
    assert accepted_rids(sdp, "1") == ["q", "h", "f"]
    assert accepted_rids(sdp, "0") == []


@pytest.mark.parametrize("lines, rids", [
    ((), []),  # today's server: nothing about simulcast
    ((f"a=extmap:4 {RID_URI}", "a=rid:q recv", "a=rid:f recv", "a=simulcast:recv q;f"),
     ["q", "f"]),
    ((f"a=extmap:4 {RID_URI}", "a=rid:q recv", "a=rid:h recv", "a=rid:f recv",
      "a=simulcast:recv q;~h;f"), ["q", "f"]),  # h paused
    ((f"a=extmap:4 {RID_URI}", "a=rid:q recv", "a=rid:h recv",
      "a=simulcast:recv q;h,f"), ["q", "h"]),  # alternatives: the first
    (("a=rid:q recv", "a=rid:f recv", "a=simulcast:recv q;f"), []),  # no RID extension
    ((f"a=extmap:4 {RID_URI}", "a=rid:q send", "a=simulcast:recv q"), []),  # wrong way
    ((f"a=extmap:4 {RID_URI}", "a=rid:q recv", "a=simulcast:send q"), []),
    ((f"a=extmap:x {RID_URI}", "a=rid:q recv", "a=simulcast:recv q", "a=simulcast:"), []),
])
def test_answers_that_take_fewer_or_no_encodings(lines: tuple[str, ...],
                                                  rids: list[str]) -> None:
    assert accepted_rids(answer(*lines), "1") == rids


def test_the_rid_extension_keeps_its_id_when_audio_joins_the_offer() -> None:
    """A first offer with video alone has ids 1 and 3 taken; a later one with audio
    takes 2 as well. The RID's id must not move (packets already carry it): with aiortc's
    ids avoided it is 4 both times, and an id offered before is kept."""
    video_only = OFFER.replace("a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n",
                               "")
    first = offer_simulcast(video_only, "1", ["q", "f"], avoid={1, 2, 3})
    assert extmap_id(first, "1", RID_URI) == 4
    later = offer_simulcast(OFFER, "1", ["q", "f"], rid_id=4)
    assert extmap_id(later, "1", RID_URI) == 4
    # without `avoid`, the first free id would have been the audio level's 2
    assert extmap_id(offer_simulcast(video_only, "1", ["q", "f"]), "1", RID_URI) == 2
    with pytest.raises(ValueError):
        offer_simulcast(OFFER, "1", ["q", "f"], rid_id=2)  # taken by the audio level
