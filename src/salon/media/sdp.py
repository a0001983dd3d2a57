"""An SDP as the simulcast code edits it: the session part, then one list of lines per
m-section, and back (RFC 8866 §5: lines end in CRLF; a lone LF is read too).

Shared by the server's publish answer (media/embedded/simulcast_sdp.py) and the Python
client's offer (client/media/simulcast_sdp.py). Pure text, no I/O.
"""

#: RFC 8852's RTP stream id header extension: each simulcast encoding's RID in its packets.
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"


def sections(sdp: str) -> list[list[str]]:
    """The session part, then one list of lines per m-section (line endings dropped,
    empty lines too)."""
    out: list[list[str]] = [[]]
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            out.append([])
        if line:
            out[-1].append(line)
    return out


def join(parts: list[list[str]]) -> str:
    """`sections` back into SDP text."""
    return "".join(line + "\r\n" for section in parts for line in section)
