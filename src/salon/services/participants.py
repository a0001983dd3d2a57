"""Participants of a meeting, their tokens, and the one function that verifies a token."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Connection, and_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.clock import utcnow
from salon.core.errors import Conflict, NotFound, Unauthorized
from salon.core.ids import new_uuid
from salon.core.paging import Page
from salon.core.participants import NewParticipant, ParticipantEdit
from salon.core.presets import Permissions, PresetConfig
from salon.services import meetings, presets
from salon.services.participant_tokens import TokenSigner
from salon.store.database import Database
from salon.store.group_commit import GroupCommit
from salon.store.models import Meeting, Participant, Preset
from salon.store.prepared import Prepared


@dataclass(frozen=True)
class Admitted:
    """A participant as a verified token presents it: who, where, and with what preset."""

    participant: Participant
    meeting: Meeting
    preset: Preset

    @property
    def permissions(self) -> Permissions:
        return _validated(self.preset)[0]

    @property
    def config(self) -> PresetConfig:
        return _validated(self.preset)[1]


#: (preset id, updated_at) → its validated permissions and config. Validating both took
#: about a tenth of a join's time in a large webinar (bench/realtime.py --webinar
#: --profile join), and every member of an audience shares one preset. The models are
#: shared by every peer of the preset: nothing mutates them (permissions are replaced
#: whole, `host.update_permissions`). An edit changes `updated_at`, so the key.
_VALIDATED: dict[tuple[str, datetime], tuple[Permissions, PresetConfig]] = {}
_VALIDATED_MAX = 256


def _validated(preset: Preset) -> tuple[Permissions, PresetConfig]:
    key = (preset.id, preset.updated_at)
    known = _VALIDATED.get(key)
    if known is None:
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.clear()
        known = _VALIDATED[key] = (Permissions.model_validate(preset.permissions),
                                   PresetConfig.model_validate(preset.config))
    return known


@dataclass(frozen=True, slots=True)
class Added:
    """A participant just added: the row as inserted, without an ORM object to track."""

    id: str
    app_id: str
    meeting_id: str
    custom_participant_id: str
    name: str | None
    picture: str | None
    token_version: int
    created_at: datetime
    updated_at: datetime
    preset_name: str


def _typed(column: str) -> BindParameter[Any]:
    return bindparam(column, type_=Participant.__table__.c[column].type)


# One statement adds the participant if the meeting is in the app and the preset exists:
# the hot path needs no read before the write. Built and compiled once, as constructing,
# cache-keying and compiling the expression cost more than running it.
_COPIED = ("id", "app_id", "custom_participant_id", "name", "picture", "token_version",
           "created_at", "updated_at")
_INSERT = Prepared(insert(Participant).from_select(
    [*_COPIED, "meeting_id", "preset_id"],
    select(*(_typed(column) for column in _COPIED), Meeting.id, Preset.id)
    .join(Preset, and_(Preset.app_id == Meeting.app_id,
                       Preset.name == bindparam("preset_name")))
    .where(Meeting.id == bindparam("meeting_id"), Meeting.app_id == bindparam("app_id")),
))
_MEETING_AND_PRESET = (
    select(Meeting.id, Preset.id)
    .outerjoin(Preset, and_(Preset.app_id == bindparam("app_id"),
                            Preset.name == bindparam("preset_name")))
    .where(Meeting.id == bindparam("meeting_id"), Meeting.app_id == bindparam("app_id"))
)


# PostgreSQL: the adds a node has waiting, as one statement (`store.group_commit`).
# A row that is not inserted — its meeting or preset unknown, or its
# custom_participant_id taken, by an earlier add or one before it in the same batch
# (the first to arrive wins) — is left out (ON CONFLICT DO NOTHING) without failing
# the others, and explained on its own. Rows go in in key order, so two nodes' batches
# take their unique-index locks in the same order (no deadlock between them). A batch
# that fails anyway (a foreign key broken by a preset deleted meanwhile, a deadlock
# with another writer) is written again one add at a time, each with its own answer.
_INSERT_MANY = """\
INSERT INTO participants (id, app_id, custom_participant_id, name, picture, token_version,
                          created_at, updated_at, meeting_id, preset_id)
SELECT v.id, v.app_id, v.custom_participant_id, v.name, v.picture, v.token_version,
       v.created_at, v.updated_at, m.id, p.id
FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::text[],
            $6::int[], $7::timestamptz[], $8::timestamptz[], $9::varchar[], $10::varchar[])
     WITH ORDINALITY AS v(id, app_id, custom_participant_id, name, picture, token_version,
                          created_at, updated_at, meeting_id, preset_name, arrival)
JOIN meetings m ON m.id = v.meeting_id AND m.app_id = v.app_id
JOIN presets p ON p.app_id = m.app_id AND p.name = v.preset_name
ORDER BY v.meeting_id, v.custom_participant_id, v.arrival
ON CONFLICT DO NOTHING
RETURNING participants.id"""
_MANY_COLUMNS = ("id", "app_id", "custom_participant_id", "name", "picture",
                 "token_version", "created_at", "updated_at", "meeting_id", "preset_name")


async def add(database: Database, app_id: str, meeting_id: str, body: NewParticipant) -> Added:
    """Add a participant; the hottest write of the API, so Core on a bare connection
    (SQLite), or with the other adds waiting on this node (PostgreSQL)."""
    now = utcnow()
    values = {"id": new_uuid(), "app_id": app_id, "meeting_id": meeting_id,
              "custom_participant_id": body.custom_participant_id, "name": body.name,
              "picture": body.picture, "token_version": 1, "created_at": now,
              "updated_at": now, "preset_name": body.preset_name}
    try:
        if database.is_sqlite:
            await database.run_alone(lambda connection: _insert(connection, values))
        elif not await _group(database).submit(values):
            await database.run_alone(lambda connection: _why_not(connection, values))
    except IntegrityError as error:
        raise _taken(meeting_id, body.custom_participant_id) from error
    return Added(**values)


def _taken(meeting_id: str, custom_participant_id: str) -> Conflict:
    return Conflict(
        f"Meeting {meeting_id} already has a participant with custom_participant_id "
        f"'{custom_participant_id}'; use its refresh-token endpoint for a new token.")


def _group(database: Database) -> "GroupCommit[dict[str, Any], bool]":
    group = database.group_commits.get("participants")
    if group is None:
        async def write(batch: list[dict[str, Any]]) -> list[bool | Exception]:
            try:
                inserted = await database.run_alone(lambda connection: _insert_many(
                    connection, batch))
            except Exception:
                if len(batch) == 1:
                    raise
                return [await _alone(database, values) for values in batch]
            return [values["id"] in inserted for values in batch]
        group = database.group_commits["participants"] = GroupCommit(write)
    return group


async def _alone(database: Database, values: dict[str, Any]) -> bool | Exception:
    """One add of a failed batch, as SQLite writes it: inserted, or why not."""
    try:
        await database.run_alone(lambda connection: _insert(connection, values))
    except Exception as error:  # this request's own answer (add maps IntegrityError)
        return error
    return True


def _insert_many(connection: Connection, batch: list[dict[str, Any]]) -> set[str]:
    columns = tuple([values[name] for values in batch] for name in _MANY_COLUMNS)
    return {row[0] for row in connection.exec_driver_sql(_INSERT_MANY, columns)}


def _insert(connection: Connection, values: dict[str, Any]) -> None:
    if _INSERT.execute(connection, values).rowcount != 1:
        _why_not(connection, values)


def _why_not(connection: Connection, values: dict[str, Any]) -> None:
    """Nothing inserted: say why, meeting first (its absence is a 404, a preset's a 400),
    else the custom_participant_id is taken (a 409)."""
    found = connection.execute(_MEETING_AND_PRESET, values).first()
    if found is None:
        raise NotFound(f"Meeting {values['meeting_id']} not found.")
    if found[1] is None:
        raise presets.unknown_preset(values["preset_name"])
    raise _taken(values["meeting_id"], values["custom_participant_id"])


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
