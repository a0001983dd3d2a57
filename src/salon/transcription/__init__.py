"""Transcription of sessions: the live transcriber that captures each participant's
audio, and the post-meeting jobs that turn it into RealtimeKit's transcript files and a
summary (`jobs.PostMeetingJobs`)."""
