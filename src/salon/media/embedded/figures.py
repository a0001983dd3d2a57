"""The media counters each published track and each subscriber's slot report for
/metrics (`salon.observability`), and what closed ones leave behind."""

#: The figures `Published.figures` and `Downstream.figures` report, per kind of media.
FIGURES = ("received_packets", "received_bytes", "received_frames", "keyframes",
           "lost_packets", "rtx_received", "nacks_sent", "plis_sent", "not_forwarded",
           "forwarded_packets", "forwarded_bytes", "forward_dropped", "nack_resent",
           "keyframe_requests")


class Retired:
    """Figures of tracks and slots that have closed, per kind, so that totals over the
    live ones plus these never go back (`salon.observability` reads them)."""

    def __init__(self) -> None:
        self.by_kind: dict[str, dict[str, int]] = {
            kind: dict.fromkeys(FIGURES, 0) for kind in ("audio", "video")}

    def add(self, kind: str, figures: dict[str, int]) -> None:
        into = self.by_kind[kind]
        for name, value in figures.items():
            into[name] += value
