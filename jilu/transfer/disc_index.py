"""The disc's ``index.html``: the record list with a player per recording,
opened straight from the disc in any browser, without a network (C5.5).

Every link is relative to the disc root (``data/…``, percent-encoded UTF-8) so
the page works from a burnt disc, a mounted ISO or an extracted copy. The
template is rendered by its own engine so it does not depend on the app being
in ``INSTALLED_APPS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from django.template import Context, Engine

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
VIDEO = {"mp4", "m4v", "mov", "webm", "ogv", "mkv"}
AUDIO = {"wav", "mp3", "m4a", "aac", "ogg", "opus", "flac"}
IMAGE = {"jpg", "jpeg", "png", "gif", "webp", "bmp"}


@dataclass
class IndexRow:
    no: int | None
    cells: list[str]
    complete: bool
    file_name: str
    sha256: str
    sm3: str
    disc: int
    href: str = ""  # relative link when the file is on this disc
    standard_name: str = ""  # the record-list name, when the disc's name is shortened from it

    @property
    def shortened(self) -> bool:
        return bool(self.standard_name) and self.standard_name != self.file_name

    @property
    def media(self) -> str:
        ext = self.file_name.rsplit(".", 1)[-1].lower() if "." in self.file_name else ""
        if ext in VIDEO:
            return "video"
        if ext in AUDIO:
            return "audio"
        if ext in IMAGE:
            return "image"
        return ""


def href(rel_path: str) -> str:
    """A relative URL for a path under the disc root."""
    return quote(rel_path, safe="/")


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return Engine(dirs=[str(TEMPLATE_DIR)], autoescape=True)


def render(
    *,
    title: str,
    columns: list[str],
    case: dict,
    disc_of: str,
    created: str,
    rows: list[IndexRow],
    documents: list[tuple[str, str]],
    file_count: int,
    payload_size: str,
) -> bytes:
    template = _engine().get_template("transfer/disc_index.html")
    html = template.render(
        Context(
            {
                "title": title,
                "columns": columns,
                "case": case,
                "disc_of": disc_of,
                "created": created,
                "rows": rows,
                "documents": [{"name": n, "href": href(p)} for n, p in documents],
                "file_count": file_count,
                "payload_size": payload_size,
            }
        )
    )
    return html.encode("utf-8")
