"""Masking secrets in log text: whatever a message, a URL or a traceback carries.

Applied to every formatted line (salon.observability.logs), so a secret is masked
whichever module logged it and however: API tokens (`salon_…`), participant tokens and
any other JWT, `Authorization` header values, `Bearer …`, secret-looking query or
fragment parameters (`token=`, `signature=`, `key=` …, as in `/meet#token=…` or a signed
download link), the password of a URL (`redis://:pw@…`, `postgresql://user:pw@…`) and
PEM private keys. What is masked becomes `[redacted]`; the rest of the line stays.
"""

import re

MASK = "[redacted]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Whole WebSocket frames in debug lines (`< TEXT '{"type":"join",…}' [385 bytes]`):
    # a join carries the participant token, `meeting.changed` a new one, and a frame cut
    # short keeps a token's tail that nothing else would recognize.
    (re.compile(r"([<>] (?:TEXT|BINARY|CONT) )(?:'.*'|\".*\"|b'.*')( \[[^\]]*bytes\])"),
     r"\1" + MASK + r"\2"),
    # PEM private keys (webhook signing keys), whole blocks.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
                re.S), MASK),
    # JWTs: three base64url parts, the first a JSON header (`eyJ`).
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # …and what is left of one where a debug log cut a frame short (websockets shows
    # a long message's head and tail: `eyJhbGci...xcEz65A`).
    (re.compile(r"eyJ[A-Za-z0-9_.-]*\.\.\.[A-Za-z0-9_-]*"), MASK),
    # salon's API tokens (`salon_` + 43 base64url characters), or parts of one.
    (re.compile(r"\bsalon_[A-Za-z0-9_-]{8,}"), "salon_" + MASK),
    # Authorization header values and bearer credentials, however quoted.
    # (`Authorization: x`, `authorization=x`, `{'authorization': 'x'}`, and the header
    # tuples of an ASGI scope, `(b'authorization', b'x')`.)
    (re.compile(r"(?i)(authorization['\"]?\s*(?:[:=]|,\s*(?=b?['\"]))\s*(?:b(?=['\"]))?['\"]?)"
                r"[^'\"\r\n,})]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    # key=value in query strings, fragments and forms.
    (re.compile(r"(?i)([?#&;\s]|^)((?:access_|refresh_|auth_|api_|resume_|id_)?token|signature|"
                r"sig|secret|password|passwd|api_?key|key|credential)=([^&#\s\"'<>]+)"),
     r"\1\2=" + MASK),
    # A URL's password: scheme://user:password@host.
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@"), r"\1" + MASK + "@"),
)


def redact(text: str) -> str:
    """`text` with every secret-looking part replaced by `[redacted]`."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
