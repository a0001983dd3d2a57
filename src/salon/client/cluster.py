"""Following a cluster: where a client goes on a REDIRECT, and where it resumes (docs/protocol.md
"Clusters: redirects and failover").

A meeting runs on one node. Another node refuses a join with `REDIRECT`, naming the
node that runs it; a node that stops running a meeting closes its peers with 4013. The
client answers both the same way: the same join, sent to the node it is told of, or on
a dropped connection to the first node of `candidates` that answers.
"""

from typing import Any

#: Redirects followed in a row before a join gives up with the REDIRECT error: two nodes
#: that disagree about who runs a meeting must not keep a client bouncing forever.
MAX_REDIRECTS = 3

#: MEETING_MOVING answers (the meeting is between nodes: handed over, not yet taken) a
#: join waits out, `retry_after` seconds each, before it gives up with that error.
MAX_MOVING_WAITS = 5

#: Close codes after which a peer may resume (docs/protocol.md "Close codes"; the browser
#: SDK's set), and 1006: no close frame at all. 4013: the node stopped running the
#: meeting (drained, lost its lease); another node takes it over and accepts the resume.
RESUMABLE_CLOSES = frozenset({1001, 1006, 1009, 1011, 1012, 1013, 4007, 4008, 4013})

#: Codes that end a resume for good: the peer is gone (RESUME_FAILED), or no node would
#: take this token or meeting, so trying another one only wastes the grace window.
FINAL_REFUSALS = frozenset({"RESUME_FAILED", "UNAUTHORIZED", "MEETING_INACTIVE",
                            "SESSION_ENDED", "PROTOCOL_VERSION"})

#: The backoff between rounds over the candidates: first, doubling, at most; and how long
#: to keep trying in all (the server keeps a dropped peer 15 s by default).
FIRST_BACKOFF_SECS = 0.2
MAX_BACKOFF_SECS = 2.0
RESUME_WITHIN_SECS = 20.0


def ws_url(http_url: str) -> str:
    """The gateway URL of a salon server given its HTTP base URL."""
    return http_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") \
        + "/realtime/v1"


def http_url(gateway_url: str) -> str:
    """The HTTP base URL of a salon server given its gateway URL (the reverse of ws_url)."""
    base = gateway_url.replace("ws://", "http://").replace("wss://", "https://").rstrip("/")
    return base.removesuffix("/realtime/v1")


def redirect_target(error: dict[str, Any]) -> str | None:
    """The gateway URL a REDIRECT error sends the client to, or None if it names none
    usable: its `url`, else the one of its `address`."""
    url = error.get("url")
    if isinstance(url, str) and url.startswith(("ws://", "wss://")):
        return url
    address = error.get("address")
    if isinstance(address, str) and address.startswith(("http://", "https://")):
        return ws_url(address)
    return None


def candidates(current: str, entry: str, nodes: list[str]) -> list[str]:
    """Where to resume, in order: the node the client was on, the URL it first connected
    to (a load balancer, say), then the other live nodes it was told of, each once."""
    order = [current, entry, *(ws_url(node) for node in nodes if isinstance(node, str)
                               and node.startswith(("http://", "https://")))]
    return list(dict.fromkeys(url for url in order if url))
