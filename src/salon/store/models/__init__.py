"""The tables, one module per concept; JSON columns hold schema trees validated in `core/`."""

from salon.store.models.accounts import Account, ApiToken, App, SigningKey
from salon.store.models.base import Base, Json, UTCDateTime
from salon.store.models.chat import ChatFile, ChatMessage, ChatRecipient
from salon.store.models.livestreams import Livestream, LivestreamSession
from salon.store.models.meetings import Meeting, Participant, Preset
from salon.store.models.plugins import Plugin
from salon.store.models.polls import Poll, PollVote, Question, QuestionUpvote
from salon.store.models.recordings import Recording
from salon.store.models.sessions import PeerEvent, Session, SessionPeer
from salon.store.models.transcripts import SessionSummary, SessionTranscript
from salon.store.models.webhook_deliveries import WebhookDelivery, WebhookKey
from salon.store.models.webhooks import Webhook

__all__ = [
    "Account",
    "ApiToken",
    "App",
    "Base",
    "ChatFile",
    "ChatMessage",
    "ChatRecipient",
    "Json",
    "Livestream",
    "LivestreamSession",
    "Meeting",
    "Participant",
    "PeerEvent",
    "Plugin",
    "Poll",
    "PollVote",
    "Preset",
    "Question",
    "QuestionUpvote",
    "Recording",
    "Session",
    "SessionPeer",
    "SessionSummary",
    "SessionTranscript",
    "SigningKey",
    "UTCDateTime",
    "Webhook",
    "WebhookDelivery",
    "WebhookKey",
]
