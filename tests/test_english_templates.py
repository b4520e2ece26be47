"""Every page reads in English too: each Chinese text a template translates has an
English translation in some catalogue (the shell's own test covers its labels)."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent / "jilu"
TRANSLATE = re.compile(r"""\{% (?:translate|trans) (['"])(.+?)\1(?: (?:as \w+|noop))? %\}""")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_translated_template_text_has_english():
    templates = sorted(ROOT.rglob("templates/**/*.html"))
    assert len(templates) > 50  # the pages of every app, not an empty search
    missing = []
    with translation.override("en"):
        for path in templates:
            for match in TRANSLATE.finditer(path.read_text()):
                msgid = match.group(2)
                if CHINESE.search(msgid) and translation.gettext(msgid) == msgid:
                    missing.append(f"{path.relative_to(ROOT)}: {msgid}")
    assert not missing, missing


BLOCK = re.compile(
    r"\{% blocktrans(?:late)?(?P<args>[^%]*)%\}(?P<body>.*?)\{% endblocktrans(?:late)? %\}", re.S
)


def test_every_translated_template_paragraph_has_english():
    """The same for {% blocktranslate %} texts with placeholders (singular ones)."""
    missing, checked = [], 0
    with translation.override("en"):
        for path in sorted(ROOT.rglob("templates/**/*.html")):
            for match in BLOCK.finditer(path.read_text()):
                args, body = match.group("args"), match.group("body")
                if "{% plural %}" in body or "context" in args or "trimmed" in args:
                    continue
                checked += 1
                msgid = re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", body.replace("%", "%%"))
                if CHINESE.search(msgid) and translation.gettext(msgid) == msgid:
                    missing.append(f"{path.relative_to(ROOT)}: {msgid[:60]}")
    assert checked > 30  # every page's paragraphs, not an empty search
    assert not missing, missing
