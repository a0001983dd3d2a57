"""Transcription as a service of the meeting server (issue 14): the transcriber that
joins live sessions (live captions, and each voice kept for the post-meeting
transcript), the post-meeting jobs that turn what it kept into RealtimeKit's transcript
files and a summary (`jobs.PostMeetingJobs`), and the checks of a meeting's
transcription settings. The speech engine itself is `salon.ai`, which knows nothing of
meetings."""
