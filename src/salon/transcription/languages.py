"""Whether the installed Whisper model can transcribe a meeting's language.

A meeting asking for a language the model cannot do must fail when it is saved, with
a message saying what to change, rather than transcribe nothing later (or transcribe
German as English). The model is the server's (`SALON_TRANSCRIPTION_MODEL`, or the
bundled tiny.en, which is English-only).
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

from salon.ai.languages import UnsupportedLanguage, check_language
from salon.core.errors import InvalidRequest


@lru_cache(maxsize=8)
def _multilingual(model_path: Path | None) -> tuple[bool, str]:
    from salon.ai.recognizer import default_model_path, model_is_multilingual

    path = model_path or default_model_path()
    shown = str(model_path) if model_path else "the bundled tiny.en"
    return model_is_multilingual(path), shown


def check_meeting_language(ai_config: Any, model_path: Path | None) -> None:
    """400 if `ai_config.transcription.language` (a dict or model; absent: nothing to
    check) is one the installed model cannot transcribe."""
    if hasattr(ai_config, "model_dump"):
        ai_config = ai_config.model_dump()
    if not isinstance(ai_config, dict):
        return
    transcription = ai_config.get("transcription")
    language = transcription.get("language") if isinstance(transcription, dict) else None
    if not isinstance(language, str):
        return
    multilingual, shown = _multilingual(model_path)
    try:
        check_language(language, multilingual=multilingual, model=shown)
    except UnsupportedLanguage as error:
        raise InvalidRequest(f"body.ai_config.transcription.language: {error}") from None
