"""Active speaker from RFC 6464 audio levels, per room (docs/media-design.md §7).

Every window the loudest audio track above a threshold is the candidate; it must lead
for two windows in a row before it becomes the speaker, so a cough does not steal the
floor.
"""

from collections.abc import Iterable

#: -dBov: 0 is loudest, 127 silence. Quieter than this is not speech.
SPEECH_DBOV = 50
WINDOW_SECS = 0.2
LEAD_WINDOWS = 2


class ActiveSpeaker:
    def __init__(self) -> None:
        self.speaker: str | None = None
        self._candidate: str | None = None
        self._lead = 0

    def window(self, levels: Iterable[tuple[str, list[int]]]) -> str | None | bool:
        """Feed one window of (peer_id, levels); returns the new speaker when it
        changed (None: silence), or False when nothing changed."""
        loudest, best = None, SPEECH_DBOV
        for peer_id, values in levels:
            if not values:
                continue
            mean = sum(values) / len(values)
            if mean < best:
                loudest, best = peer_id, mean
        if loudest == self._candidate:
            self._lead += 1
        else:
            self._candidate, self._lead = loudest, 1
        if self._lead >= LEAD_WINDOWS and self._candidate != self.speaker:
            if self._candidate is None and self._lead < LEAD_WINDOWS * 5:
                return False  # keep the last speaker through short pauses (~2 s)
            self.speaker = self._candidate
            return self.speaker
        return False
