"""Where a meeting runs when not on this node (`ClusterNode.place`'s answer)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Elsewhere:
    """The meeting runs on another node (or is about to): connect there."""

    node_id: str
    #: The node's base URL (`http://host:port`); None when its entry is gone (it died,
    #: and its lease has not run out yet), or the meeting is between nodes.
    address: str | None
