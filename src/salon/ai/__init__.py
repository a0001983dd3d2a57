"""Offline meeting intelligence: transcription and summaries, with no call out by default."""
