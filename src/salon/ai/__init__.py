"""Offline meeting intelligence (issue 14): transcription and summaries, with no call out
by default.

`recognizer` runs Whisper (faster-whisper, CTranslate2 int8 on the CPU) on one voice;
`posthoc` transcribes a session's per-participant track recordings and merges them;
`transcript` is the pure transcript model and RealtimeKit's four file formats;
`languages` maps RealtimeKit's language codes to Whisper's; `profanity` masks swear words;
`wer` scores a transcript against known text (tests, bench/transcription.py); `summary`
writes meeting summaries (extractive by default, an OpenAI-compatible endpoint if set).
Recognition is CPU-bound and blocking: callers run it in a worker process or thread,
never on the server's event loop.
"""
