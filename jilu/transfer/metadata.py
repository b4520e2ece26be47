"""What each disc says about its case: the case metadata, ``bag-info.txt``
(RFC 8493 fields plus the case's own) and ``jilu-manifest.json``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from jilu.casework import recordlist
from jilu.casework.models import Case
from jilu.transfer.bag import FileEntry, bag_info_text, oxum
from jilu.transfer.labels import human_size

SOFTWARE = "Jilu (记录) case disc package"
FORMAT = "jilu-case-disc/1"


def unit_address(unit) -> str:
    """The handling unit within its bureau, from the top of the unit tree down
    (市局 → 区局/支队 → 大队 → 中队): what Jilu knows of where the unit is."""
    return " ".join(u.name for u in [*unit.ancestors(), unit])


def case_metadata(case: Case) -> dict:
    handler = case.handler
    return {
        "number": case.number,
        "title": case.title,
        "category": case.get_category_display(),
        "matter": case.matter,
        "party": case.party.name if case.party_id else "",
        "party_kind": case.party.get_kind_display() if case.party_id else "",
        "unit": case.unit.name,
        "unit_code": case.unit.code,
        "unit_address": unit_address(case.unit),
        "handler": handler.name if handler else "",
        "handler_cert_no": (handler.cert_no or "") if handler else "",
        "retention": case.get_retention_display(),
        "status": case.get_status_display(),
    }


def bag_info(
    *,
    meta: dict,
    created: datetime,
    number: int,
    count: int,
    disc_of: str,
    recordings: int,
    payload: list[FileEntry],
    manifest_sha256: str,
) -> str:
    """bag-info.txt: case number (also as 案件编号), unit, handler, time, disc n of m.

    RFC 8493's Source-Organization and Organization-Address name the handling
    unit and where it sits in its bureau; the unit's code is Jilu's own
    Handling-Unit-Code.
    """
    size = sum(e.size for e in payload)
    return bag_info_text(
        [
            ("Source-Organization", meta["unit"]),
            ("Organization-Address", meta.get("unit_address") or meta["unit"]),
            ("External-Description", f"{recordlist.TITLE}：{meta['number']} {meta['title']}"),
            ("External-Identifier", f"{meta['number']} {disc_of}"),
            ("Case-Number", meta["number"]),
            ("案件编号", meta["number"]),
            ("Case-Title", meta["title"] or "—"),
            ("Party", meta["party"] or "—"),
            ("Handling-Unit", meta["unit"]),
            ("Handling-Unit-Code", meta["unit_code"]),
            ("Case-Handler", meta["handler"] or "—"),
            ("Created", created.isoformat()),
            ("Bagging-Date", created.date().isoformat()),
            ("Bag-Group-Identifier", meta["number"]),
            ("Bag-Count", f"{number} of {count}"),
            ("Disc", disc_of),
            ("Record-Count", str(recordings)),
            ("Payload-Oxum", oxum(payload)),
            ("Bag-Size", human_size(size)),
            ("Manifest-SHA256", manifest_sha256),
            ("Bag-Software-Agent", SOFTWARE),
        ]
    )


def manifest_document(
    *,
    meta: dict,
    created: datetime,
    disc: dict,
    manifest_sha256: str,
    payload: list[FileEntry],
    listing: list[dict],
) -> dict:
    """jilu-manifest.json: the case, this disc's files with SHA-256 and SM3, and
    the whole record list with the disc each row is on."""
    return {
        "format": FORMAT,
        "case": meta,
        "created_at": created.isoformat(),
        "disc": disc,
        "manifest_sha256": manifest_sha256,
        "payload_oxum": oxum(payload),
        "files": [asdict(e) for e in payload],
        "record_list": listing,
    }
