"""Simulcast in the publish negotiation (RFC 8853 simulcast, RFC 8851 RID), which aiortc
1.16 neither parses nor answers (docs/media-design.md §6.10).

A publisher sends several encodings of one camera on one m-line: the offer names them
(`a=rid:<id> send`, `a=simulcast:send <id>;<id>;...`) and marks each RTP stream with the
`sdes:rtp-stream-id` header extension (RTX streams with `sdes:repaired-rtp-stream-id`),
with no `a=ssrc` lines for them. `offered` reads that from the offer; `answer` adds to
aiortc's answer what accepts it (`a=rid:<id> recv`, `a=simulcast:recv ...`). The two
extension ids are put into aiortc's own header-extension list elsewhere (hooks), so that
its answer carries the `a=extmap` lines and its RTP parser reads the RID.

Pure functions over SDP text: no aiortc, no I/O (tests/test_simulcast.py).
"""

from dataclasses import dataclass

from salon.media.sdp import RID_URI, join, sections

REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#: More encodings than this are not accepted (every SFU and browser stops at 3–4).
MAX_ENCODINGS = 4
#: RFC 8851 §10: rid-syntax is alphanumerics, '-' and '_'; 16 bytes fit one extension
#: element (RFC 8285), which is what the RID travels in.
MAX_RID_LEN = 16


@dataclass(frozen=True)
class Simulcast:
    """What one m-line of an offer sends as simulcast."""

    #: The RIDs in the order of `a=simulcast:send` (the publisher's order, which is not
    #: necessarily low to high: the forwarder orders encodings by what it receives).
    rids: tuple[str, ...]
    #: The offer's ids of the rtp-stream-id and repaired-rtp-stream-id extensions.
    rid_ext_id: int
    repaired_ext_id: int | None


def _valid_rid(rid: str) -> bool:
    return 0 < len(rid) <= MAX_RID_LEN and all(c.isascii() and (c.isalnum() or c in "-_")
                                               for c in rid)


def _send_rids(value: str, declared: list[str]) -> list[str]:
    """RIDs of `a=simulcast:send <list>` (RFC 8853 §5.1): `;` separates streams, `,`
    alternatives of one stream (the first is taken), `~` marks a stream paused at
    start (still accepted: it may start later)."""
    rids = []
    for stream in value.split(";"):
        first = stream.split(",")[0].strip().lstrip("~")
        if first in declared and first not in rids:
            rids.append(first)
    return rids


def offered(sdp: str) -> dict[str, Simulcast]:
    """mid -> what that video m-line offers to send as simulcast. An m-line without
    `a=simulcast:send`, without the rtp-stream-id extension, or with fewer than two
    usable RIDs is left out (it is an ordinary single stream)."""
    out: dict[str, Simulcast] = {}
    for lines in sections(sdp)[1:]:
        if not lines[0].startswith("m=video"):
            continue
        mid = None
        declared: list[str] = []
        send_value = None
        rid_id = repaired_id = None
        for line in lines:
            if line.startswith("a=mid:"):
                mid = line[6:].strip()
            elif line.startswith("a=rid:"):
                parts = line[6:].split()
                if len(parts) >= 2 and parts[1] == "send" and _valid_rid(parts[0]):
                    declared.append(parts[0])
            elif line.startswith("a=simulcast:"):
                words = line[12:].split()
                for i in range(0, len(words) - 1, 2):
                    if words[i] == "send":
                        send_value = words[i + 1]
            elif line.startswith("a=extmap:"):
                head, _, rest = line[9:].partition(" ")
                uri = rest.split()[0] if rest.split() else ""
                try:
                    ext_id = int(head.split("/")[0])
                except ValueError:
                    continue
                if not 1 <= ext_id <= 14:  # one-byte header elements only
                    continue
                if uri == RID_URI:
                    rid_id = ext_id
                elif uri == REPAIRED_RID_URI:
                    repaired_id = ext_id
        if mid is None or send_value is None or rid_id is None:
            continue
        rids = _send_rids(send_value, declared)[:MAX_ENCODINGS]
        if len(rids) >= 2:
            out[mid] = Simulcast(tuple(rids), rid_id, repaired_id)
    return out


def answer(sdp: str, accepted: dict[str, Simulcast]) -> str:
    """aiortc's answer with `a=rid:<id> recv` and `a=simulcast:recv ...` added to each
    m-line whose mid is in `accepted` (RFC 8853 §5.3: the answer lists the streams it
    receives, in the offer's order)."""
    parts = sections(sdp)
    for lines in parts[1:]:
        mid = next((line[6:].strip() for line in lines if line.startswith("a=mid:")), None)
        chosen = accepted.get(mid) if mid is not None else None
        if chosen is None or any(line.startswith("a=simulcast:") for line in lines):
            continue
        lines.extend(f"a=rid:{rid} recv" for rid in chosen.rids)
        lines.append("a=simulcast:recv " + ";".join(chosen.rids))
    return join(parts)
