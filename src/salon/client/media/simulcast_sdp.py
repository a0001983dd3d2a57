"""Simulcast in SDP, as Chromium writes it (RFC 8853 `a=simulcast`, RFC 8851 `a=rid`):
pure text functions, no I/O.

aiortc 1.16 knows neither attribute, so the Python client writes them into the offer it
sends the server (aiortc keeps its own, unmunged local description) and reads the
server's answer itself:

- the offer's video section gets `a=rid:<id> send` per encoding (low to high),
  `a=simulcast:send q;h;f` and an `a=extmap` for the RTP stream id header extension
  (RFC 8852); its `a=ssrc`/`a=ssrc-group` lines go: each encoding is sent on an SSRC of
  its own, named by the RID in every packet, not in the SDP;
- the answer accepts simulcast when its section says `a=simulcast:recv ...` over RIDs it
  also lists as `a=rid:<id> recv`, and keeps the extmap (same id: RFC 8285 §5).
"""

from collections.abc import Iterable, Sequence

from salon.media.sdp import RID_URI, join, sections

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
#: One-byte header extension ids are 1..14 (RFC 8285 §4.2).
_EXTMAP_IDS = range(1, 15)


def _section_of(parts: list[list[str]], mid: str) -> list[str] | None:
    for section in parts[1:]:
        if f"a=mid:{mid}" in section:
            return section
    return None


def _extmaps(section: list[str]) -> dict[str, int]:
    """URI -> id of the section's `a=extmap:<id>[/<direction>] <uri>` lines."""
    found: dict[str, int] = {}
    for line in section:
        if not line.startswith("a=extmap:"):
            continue
        parts = line[len("a=extmap:"):].split()
        if len(parts) < 2:
            continue
        try:
            found[parts[1]] = int(parts[0].split("/")[0])
        except ValueError:
            continue
    return found


def offer_simulcast(sdp: str, mid: str, rids: Sequence[str], *,
                    rid_id: int | None = None, avoid: Iterable[int] = ()) -> str:
    """The offer `sdp` with the section of `mid` offering `rids` (low to high) as
    simulcast. Unchanged if there is no such section.

    The RID extension gets `rid_id` (the id offered before: RFC 8285 §6 keeps an id for
    the whole session, and packets already sent carry it), else the lowest id that no
    section uses and that is not in `avoid` (ids the sender may use in later offers).
    Raises ValueError when `rid_id` is taken by another extension or no id is left."""
    parts = sections(sdp)
    section = _section_of(parts, mid)
    if section is None or not rids:
        return sdp
    kept = [line for line in section
            if not line.startswith(("a=ssrc:", "a=ssrc-group:", "a=rid:", "a=simulcast:"))]
    if RID_URI not in _extmaps(kept):
        # ids are shared by the whole BUNDLE group: take one no section uses
        used = {i for s in parts[1:] for i in _extmaps(s).values()}
        if rid_id is not None:
            if rid_id in used or rid_id not in _EXTMAP_IDS:
                raise ValueError(f"RTP header extension id {rid_id} is not free")
            free: int | None = rid_id
        else:
            taken = used | set(avoid)
            free = next((i for i in _EXTMAP_IDS if i not in taken), None)
        if free is None:
            raise ValueError("no RTP header extension id left for the RTP stream id")
        kept.append(f"a=extmap:{free} {RID_URI}")
    kept += [f"a=rid:{rid} send" for rid in rids]
    kept.append(f"a=simulcast:send {';'.join(rids)}")
    section[:] = kept
    return join(parts)


def accepted_rids(sdp: str, mid: str) -> list[str]:
    """The RIDs the answer `sdp` takes in the section of `mid`, in its simulcast order;
    [] when it does not accept simulcast (no `a=simulcast:recv`, or no RID extension).
    A paused RID (`~h`) is not taken; of alternatives (`h,f`) the first is."""
    parts = sections(sdp)
    section = _section_of(parts, mid)
    if section is None or RID_URI not in _extmaps(section):
        return []
    declared = set()
    streams: list[str] = []
    for line in section:
        if line.startswith("a=rid:"):
            parts = line[len("a=rid:"):].split()
            if len(parts) >= 2 and parts[1] == "recv":
                declared.add(parts[0])
        elif line.startswith("a=simulcast:"):
            words = line[len("a=simulcast:"):].split()
            # "recv <streams>" possibly after "send <streams>": take the recv list
            for direction, value in zip(words[::2], words[1::2], strict=False):
                if direction == "recv":
                    streams = [s.split(",")[0] for s in value.split(";") if s]
    return [rid for rid in streams if not rid.startswith("~") and rid in declared]


def extmap_id(sdp: str, mid: str, uri: str) -> int | None:
    """The id the section of `mid` gives the header extension `uri`, if any."""
    parts = sections(sdp)
    section = _section_of(parts, mid)
    return _extmaps(section).get(uri) if section is not None else None
