"""Participant bodies (P2 add, P4 edit)."""

from salon.core.schema import Strict, text

Name = text(255, name=True)
Picture = text(8192, pattern=r"^(https?://|data:image/)\S+$")
CustomId = text(255, min_length=1, name=True)
PresetName = text(100, min_length=1, name=True)


class NewParticipant(Strict):
    custom_participant_id: CustomId
    preset_name: PresetName
    name: Name | None = None
    picture: Picture | None = None


class ParticipantEdit(Strict):
    name: Name | None = None
    picture: Picture | None = None
    preset_name: PresetName | None = None
