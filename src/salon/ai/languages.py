"""RealtimeKit's transcription languages mapped to Whisper's, and what a model can do.

RealtimeKit's `ai_config.transcription.language` is an enum of ten codes ("en-US",
"en-IN", "de", ...); its post-meeting docs also use Whisper's own two- or three-letter
codes. Salon accepts both and hands Whisper its code. An English-only model (tiny.en,
the default) asked for another language must fail loudly: Whisper would otherwise
"transcribe" German speech into English nonsense, which looks like a working feature.
Pure: no I/O, no model loading.
"""

#: RealtimeKit's codes (core/meetings.py `TranscriptionLanguage`) -> Whisper's.
REALTIMEKIT_TO_WHISPER: dict[str, str] = {
    "en-US": "en",
    "en-IN": "en",
    "de": "de",
    "hi": "hi",
    "sv": "sv",
    "ru": "ru",
    "pl": "pl",
    "el": "el",
    "fr": "fr",
    "nl": "nl",
}

#: Every language Whisper knows (faster_whisper.tokenizer._LANGUAGE_CODES, 1.2.1).
WHISPER_LANGUAGES: frozenset[str] = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha "
    "haw he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn "
    "mr ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta "
    "te tg th tk tl tr tt uk ur uz vi yi yo zh yue".split()
)

#: Whisper's vocabulary has 51864 tokens in English-only models and 51865 or more in
#: multilingual ones (the rule openai-whisper and CTranslate2 use themselves).
MULTILINGUAL_VOCABULARY_SIZE = 51865


class UnsupportedLanguage(ValueError):
    """A language salon cannot transcribe with the installed model; the message says
    what to do about it (pick another language, or install a multilingual model)."""


def whisper_language(code: str) -> str:
    """Whisper's code for a RealtimeKit or Whisper language code ("en-US" -> "en").

    Case and region are forgiven for codes not in RealtimeKit's enum ("pt-BR" -> "pt"),
    since Whisper does not distinguish regions.
    """
    if code in REALTIMEKIT_TO_WHISPER:
        return REALTIMEKIT_TO_WHISPER[code]
    base = code.strip().lower().replace("_", "-")
    if base in WHISPER_LANGUAGES:
        return base
    base = base.split("-", 1)[0]
    if base in WHISPER_LANGUAGES:
        return base
    raise UnsupportedLanguage(
        f"unknown transcription language {code!r}: use one of RealtimeKit's codes "
        f"({', '.join(REALTIMEKIT_TO_WHISPER)}) or a Whisper language code"
    )


def check_language(code: str, *, multilingual: bool, model: str) -> str:
    """Whisper's code for `code`, or UnsupportedLanguage if the model cannot do it.

    `model` names the model in the message (its directory), so an operator knows which
    one to replace.
    """
    lang = whisper_language(code)
    if lang != "en" and not multilingual:
        raise UnsupportedLanguage(
            f"transcription language {code!r} needs a multilingual Whisper model, but the "
            f"installed model ({model}) is English-only: set SALON_TRANSCRIPTION_MODEL to "
            "a multilingual CTranslate2 Whisper model directory (docs/transcription.md), "
            "or use en-US / en-IN"
        )
    return lang


def is_english_only(model_name: str, vocabulary_size: int | None) -> bool:
    """Whether a model is English-only: its name ends in `.en` (tiny.en, base.en, ...) or
    its vocabulary is the English-only one."""
    name = model_name.rstrip("/").lower()
    if name.endswith(".en") or name.endswith("-en") or name.endswith("_en"):
        return True
    return vocabulary_size is not None and vocabulary_size < MULTILINGUAL_VOCABULARY_SIZE
