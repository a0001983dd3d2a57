"""What the server tells a transcriber process: where to join, what to do there.

The transcriber runs in a process of its own (the recorder's harness,
`salon.recording.process.RecorderProcess`), so the spec pickles and names nothing but
plain values.
"""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TranscriberSpec:
    #: The harness names the process by it: `transcriber-<session id>`.
    recording_id: str
    session_id: str
    gateway_url: str
    #: The hidden transcriber participant's token (the recorder preset).
    token: str
    #: Keep every voice here for the post-meeting transcript (`transcribe_on_end`);
    #: None: live captions only.
    capture_dir: Path | None
    #: `ai_config.transcription`.
    language: str = "en-US"
    keywords: tuple[str, ...] = ()
    profanity_filter: bool = False
    #: The Whisper model directory (None: the bundled tiny.en) and its CPU threads.
    model_path: Path | None = None
    cpu_threads: int = 2
    #: A session longer than this is not transcribed past it.
    max_seconds: int = 86400
    #: A voice's backlog (what was said before this transcriber joined: `media.backlog`)
    #: starts no earlier than this (unix seconds): a transcriber started again after one
    #: failed takes only what the failed one can no longer have heard. None: all of it.
    backlog_since: float | None = None

    @classmethod
    def process_name(cls, session_id: str) -> str:
        return f"transcriber-{session_id}"
