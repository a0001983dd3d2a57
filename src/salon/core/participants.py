"""Participant bodies (P2 add, P4 edit)."""

from typing import Annotated

from pydantic import Field

from salon.core.schema import Strict

Name = Annotated[str, Field(max_length=255)]
Picture = Annotated[str, Field(pattern=r"^(https?://|data:image/)\S+$", max_length=8192)]
CustomId = Annotated[str, Field(min_length=1, max_length=255)]


class NewParticipant(Strict):
    custom_participant_id: CustomId
    preset_name: Annotated[str, Field(min_length=1, max_length=100)]
    name: Name | None = None
    picture: Picture | None = None


class ParticipantEdit(Strict):
    name: Name | None = None
    picture: Picture | None = None
    preset_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
