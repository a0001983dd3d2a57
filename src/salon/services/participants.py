"""Participants of a meeting, their tokens, and the one function that verifies a token."""

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from salon.core.clock import utcnow
from salon.core.errors import Conflict, NotFound, Unauthorized
from salon.core.ids import new_uuid
from salon.core.paging import Page
from salon.core.participants import NewParticipant, ParticipantEdit
from salon.core.presets import Permissions, PresetConfig
from salon.services import meetings, presets
from salon.services.participant_tokens import TokenSigner
from salon.store.models import Meeting, Participant, Preset


@dataclass(frozen=True)
class Admitted:
    """A participant as a verified token presents it: who, where, and with what preset."""

    participant: Participant
    meeting: Meeting
    preset: Preset

    @property
    def permissions(self) -> Permissions:
        return Permissions.model_validate(self.preset.permissions)

    @property
    def config(self) -> PresetConfig:
        return PresetConfig.model_validate(self.preset.config)


# Built once: constructing and cache-keying the expressions cost more than running them.
_MEETING_AND_PRESET = (
    select(Meeting.id, Preset.id)
    .outerjoin(Preset, and_(Preset.app_id == bindparam("app_id"),
                            Preset.name == bindparam("preset_name")))
    .where(Meeting.id == bindparam("meeting_id"), Meeting.app_id == bindparam("app_id"))
)
_INSERT = insert(Participant)
_COLUMNS = tuple(column.key for column in Participant.__table__.columns)


async def add(
    db: AsyncSession, app_id: str, meeting_id: str, body: NewParticipant
) -> tuple[Participant, Preset]:
    # The hottest write of the API: run it as one synchronous block in one greenlet
    # (every awaited statement of the async session costs a greenlet switch and the
    # session's state bookkeeping), with Core statements on the session's connection.
    return await db.run_sync(_add, app_id, meeting_id, body)


def _add(db: Session, app_id: str, meeting_id: str,
         body: NewParticipant) -> tuple[Participant, Preset]:
    connection = db.connection()
    found = connection.execute(_MEETING_AND_PRESET, {
        "app_id": app_id, "meeting_id": meeting_id, "preset_name": body.preset_name}).first()
    if found is None:
        raise NotFound(f"Meeting {meeting_id} not found.")
    if found[1] is None:
        raise presets.unknown_preset(body.preset_name)
    # Only the id and name are needed; the preset's JSON trees stay unparsed.
    preset = Preset(id=found[1], app_id=app_id, name=body.preset_name)
    now = utcnow()
    participant = Participant(
        id=new_uuid(),
        app_id=app_id,
        meeting_id=meeting_id,
        preset_id=preset.id,
        custom_participant_id=body.custom_participant_id,
        name=body.name,
        picture=body.picture,
        token_version=1,
        created_at=now,
        updated_at=now,
    )
    # A Core insert: this row needs none of the unit of work's bookkeeping.
    values = {key: getattr(participant, key) for key in _COLUMNS}
    try:
        connection.execute(_INSERT, [values])
        db.commit()
    except IntegrityError as error:
        db.rollback()
        raise Conflict(
            f"Meeting {meeting_id} already has a participant with custom_participant_id "
            f"'{body.custom_participant_id}'; use its refresh-token endpoint for a new token."
        ) from error
    return participant, preset


async def get(
    db: AsyncSession, app_id: str, meeting_id: str, participant_id: str
) -> tuple[Participant, Preset]:
    await meetings.get(db, app_id, meeting_id)
    row = (
        await db.execute(
            select(Participant, Preset)
            .join(Preset, Preset.id == Participant.preset_id)
            .where(Participant.id == participant_id, Participant.meeting_id == meeting_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"Participant {participant_id} not found in meeting {meeting_id}.")
    return row[0], row[1]


async def edit(
    db: AsyncSession, app_id: str, meeting_id: str, participant_id: str, body: ParticipantEdit
) -> tuple[Participant, Preset]:
    participant, preset = await get(db, app_id, meeting_id, participant_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("preset_name") is not None:
        preset = await presets.by_name(db, app_id, changes["preset_name"])
        participant.preset_id = preset.id
    for field in ("name", "picture"):
        if field in changes:
            setattr(participant, field, changes[field])
    participant.updated_at = utcnow()
    await db.commit()
    return participant, preset


async def refresh_token(
    db: AsyncSession, app_id: str, meeting_id: str, participant_id: str
) -> Participant:
    """Bump the token version: the caller mints the new token, older ones stop working."""
    participant, _ = await get(db, app_id, meeting_id, participant_id)
    participant.token_version += 1
    participant.updated_at = utcnow()
    await db.commit()
    return participant


async def delete(
    db: AsyncSession, app_id: str, meeting_id: str, participant_id: str
) -> tuple[Participant, Preset]:
    participant, preset = await get(db, app_id, meeting_id, participant_id)
    await db.delete(participant)
    await db.commit()
    return participant, preset


async def list_page(
    db: AsyncSession, app_id: str, meeting_id: str, page: Page
) -> tuple[list[tuple[Participant, Preset]], int]:
    await meetings.get(db, app_id, meeting_id)
    where = Participant.meeting_id == meeting_id
    total = await db.scalar(select(func.count()).select_from(Participant).where(where)) or 0
    rows = await db.execute(
        select(Participant, Preset)
        .join(Preset, Preset.id == Participant.preset_id)
        .where(where)
        .order_by(Participant.created_at, Participant.id)
        .offset(page.offset)
        .limit(page.per_page)
    )
    return [(p, pr) for p, pr in rows.all()], total


async def in_meeting(db: AsyncSession, meeting_id: str, ids: list[str]) -> list[Participant]:
    """The meeting's participants among `ids` (unknown ids are left out)."""
    if not ids:
        return []
    return list(await db.scalars(select(Participant).where(Participant.meeting_id == meeting_id,
                                                           Participant.id.in_(ids))))


async def admit(db: AsyncSession, signer: TokenSigner, token: str) -> Admitted:
    """Verify a participant token and load what it stands for.

    Fails if the signature or expiry is wrong, the participant was deleted, a newer token
    was issued (version mismatch), or the meeting or preset is gone.
    """
    claims = signer.claims(token)
    row = (
        await db.execute(
            select(Participant, Meeting, Preset)
            .join(Meeting, Meeting.id == Participant.meeting_id)
            .join(Preset, Preset.id == Participant.preset_id)
            .where(Participant.id == claims["sub"])
        )
    ).first()
    if row is None:
        raise Unauthorized("Participant token is no longer valid: the participant was removed.")
    participant, meeting, preset = row
    if participant.token_version != claims["ver"] or participant.meeting_id != claims["mid"]:
        raise Unauthorized("Participant token was replaced by a newer one; use the newest token.")
    return Admitted(participant, meeting, preset)
