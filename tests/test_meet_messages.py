"""The meeting page's message catalogue is complete: no English is written into the page
outside messages/en.js (a pragmatic static check of every meet/*.js and index.html), every
key the page uses exists in English, and English has every key a translation has.

The JavaScript check looks for what puts words on screen or into an accessible name: a
string literal that reads like English (a Capitalised word, or two or more words) in a
line of code, after class names, test ids, CSS selectors and comments are set aside; and
the static text of templates. A line that must keep such a literal (a CSS selector with
spaces, an HTTP header) says so with `// not words`.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

MEET = Path(__file__).resolve().parents[1] / "src" / "salon" / "web" / "meet"
CATALOGUE = MEET / "messages" / "en.js"

# Pieces of a line that are never shown: class names, dataset, selectors, keys.
NOT_SHOWN = [
    re.compile(r"""\bclass:\s*(["'`])(?:(?!\1).)*\1"""),
    re.compile(r"""\b(?:className|id|type|name|role|key|testid|kind|rel|target|autocomplete|inputmode|method)\s*[:=]\s*(["'])(?:(?!\1).)*\1"""),
    re.compile(r"""\b(?:querySelector(?:All)?|closest|matches|matchMedia|getElementById|get_by_test_id|import|addEventListener|removeEventListener|on|emit|setAttribute|getAttribute|removeAttribute|toggleAttribute|startsWith|endsWith|includes|split|join|replace|message|fill|CSS\.escape|console\.\w+)\(\s*(["'`])(?:(?!\1).)*\1"""),
    re.compile(r"""\bfrom\s+(["'])(?:(?!\1).)*\1"""),
    re.compile(r"""\b(?:key|code)\s*[!=]==?\s*(["'])(?:(?!\1).)*\1"""),  # event.key === "Escape"
    re.compile(r"""\b(?:sandbox|allow)\s*:\s*(["'])(?:(?!\1).)*\1"""),
    re.compile(r"""\bcase\s+(["'])(?:(?!\1).)*\1\s*:"""),  # switch (e.key) { case "Escape": …
]
STRING = re.compile(r'''"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`''')
CAPITALISED = re.compile(r"^[A-Z][a-z]+(?:[ '’][\w’'…]+)*[.?!…:]?$")
WORDS = re.compile(r"[A-Za-z]{2,}[ ,(]+[A-Za-z]{2,}")


def code_lines(text: str) -> list[tuple[int, str]]:
    """The lines of a JS file without comments (// … and /* … */, JSDoc included)."""
    out = []
    in_block = False
    for number, line in enumerate(text.splitlines(), 1):
        if in_block:
            if "*/" not in line:
                continue
            line = line.split("*/", 1)[1]
            in_block = False
        line = re.sub(r"/\*.*?\*/", "", line)
        if "/*" in line:
            line, in_block = line.split("/*", 1)[0], True
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        out.append((number, re.sub(r"\s//\s.*$", "", line)))
    return out


def literals_in(path: Path) -> list[str]:
    found = []
    raw = path.read_text().splitlines()
    for number, line in code_lines(path.read_text()):
        if "// not words" in raw[number - 1]:
            continue
        for pattern in NOT_SHOWN:
            line = pattern.sub("", line)
        for match in STRING.finditer(line):
            double, single, template = match.groups()
            if template is not None:
                static = re.sub(r"\$\{[^}]*\}", "\0", template)
                parts = static.split("\0")
                if any(WORDS.search(p) or CAPITALISED.match(p.strip()) for p in parts):
                    found.append(f"{path.name}:{number}: `{template}`")
                continue
            text = double if double is not None else single
            if CAPITALISED.match(text) or (WORDS.search(text) and not re.search(r"[\[\]#>=]|^\.|\s\.", text)):
                found.append(f"{path.name}:{number}: {text!r}")
    return found


def test_no_english_outside_the_catalogue_in_scripts() -> None:
    found = []
    for path in sorted(MEET.glob("*.js")):
        if path.name == "messages.js":
            continue
        found += literals_in(path)
    assert not found, "words to move into messages/en.js:\n" + "\n".join(found)


def test_the_check_finds_english() -> None:
    """The check itself: each way of writing words on the page is caught."""
    sample = MEET.parent / "sample_check.js"
    lines = [
        'el.textContent = "Hello there";',
        'h("button", {class: "small", dataset: {testid: "x"}}, "Admit");',
        'b.title = `Turn off ${label}`;',
        'toast(`${who} joined the room`);',
        'h("input", {placeholder: "Ask a question"});',
        'const LABELS = {audio: "Microphone", video: "Camera"};',
    ]
    try:
        sample.write_text("\n".join(lines) + "\n")
        lines_found = {finding.split(":")[1] for finding in literals_in(sample)}
        assert len(lines_found) == len(lines), literals_in(sample)
        sample.write_text('h("div", {class: "small primary", dataset: {testid: "a-b"}}, message("x.y"));\n'
                          'document.querySelector(".topbar .tabs");\n'
                          '// A comment with Words in it\n')
        assert literals_in(sample) == []
    finally:
        sample.unlink(missing_ok=True)


class _Static(HTMLParser):
    """Text and named attributes of index.html not covered by a data-msg attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict[str, str | None]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for attribute, flag in (("aria-label", "data-msg-label"), ("title", "data-msg-title"),
                                ("placeholder", "data-msg-placeholder")):
            if a.get(attribute) and flag not in a:
                self.found.append(f"<{tag}> {attribute}={a[attribute]!r}")
        if tag not in ("meta", "link", "input", "br", "img"):
            self.stack.append({"tag": tag, **a})

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()["tag"] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not re.search(r"[A-Za-z]", data) or not self.stack:
            return
        top = self.stack[-1]
        if top["tag"] in ("title", "script", "style") or "data-msg" in top:
            return
        self.found.append(f"<{top['tag']}> text {data.strip()!r}")


def test_no_english_outside_the_catalogue_in_markup() -> None:
    parser = _Static()
    parser.feed((MEET / "index.html").read_text())
    assert not parser.found, parser.found


def catalogue_keys() -> set[str]:
    return set(re.findall(r'^\s*"([\w.\-]+)":', CATALOGUE.read_text(), re.M))


def test_every_key_the_page_uses_is_in_english() -> None:
    keys = catalogue_keys()
    used: set[str] = set()
    for path in MEET.glob("*.js"):
        used |= set(re.findall(r"""\b(?:message|fill)\(\s*["']([\w.\-]+)["']""", path.read_text()))
    used |= set(re.findall(r'data-msg(?:-label|-title|-placeholder)?="([\w.\-]+)"',
                           (MEET / "index.html").read_text()))
    missing = sorted(used - keys)
    assert not missing, missing


def test_translations_only_have_english_keys() -> None:
    keys = catalogue_keys()
    for path in (MEET / "messages").glob("*.js"):
        extra = set(re.findall(r'^\s*"([\w.\-]+)":', path.read_text(), re.M)) - keys
        assert not extra, (path.name, sorted(extra))
