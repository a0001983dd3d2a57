"""Run-time knobs of live sessions (from `salon.settings.Settings`)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LiveSettings:
    #: How long a dropped peer keeps its place, waiting to resume.
    resume_grace_secs: float = 15.0
    #: Caps every meeting's keep-alive (60–600 s); for tests and demos, normally unset.
    keep_alive_cap_secs: float | None = None
    #: How often live sessions record that they are alive (their end time after a crash).
    heartbeat_secs: float = 15.0
    #: Close a connection that sent nothing (not even a ping) for this long.
    idle_timeout_secs: float = 45.0
    #: Most peers (tabs, devices) one participant may have in a meeting at once: joined,
    #: waiting, or dropped and waiting to resume. RealtimeKit states no number.
    max_peers_per_participant: int = 10
    #: A room with this many participants is large (docs/large-rooms.md): its audience
    #: hears of each other as batched counts, not one by one. 0: never large.
    large_room_threshold: int = 100
    #: How often, at most, the audience of a large room gets an `audience.delta`.
    audience_update_secs: float = 0.5
