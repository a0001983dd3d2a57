"""Transcription as a service of the meeting server (issue 14): the transcriber that
joins live sessions (live captions, and each voice kept for the post-meeting
transcript), the post-meeting jobs, and the checks of a meeting's transcription
settings. The speech engine itself is `salon.ai`, which knows nothing of meetings."""
