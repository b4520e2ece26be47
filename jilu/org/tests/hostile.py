"""Crafted workbooks for the tests of reading uploads with limits (jilu.workbooks).

Each builder starts from a real workbook (openpyxl's) and changes its zip:
the attacks of the "spreadsheets as weapons" report, built small. A huge
member is written through a stream of one repeated chunk, so a test holds
little in memory while the member inflates to hundreds of MiB.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

MIB = 1024 * 1024

BILLION_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)
XXE = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def rezip(
    data: bytes,
    change: dict[str, Callable[[bytes], bytes]] | None = None,
    *,
    add: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """The workbook with some members rewritten and others added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", compression) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if change and info.filename in change:
                body = change[info.filename](body)
            dst.writestr(info.filename, body)
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def with_doctype(doctype: bytes, *, reference: bytes = b"") -> Callable[[bytes], bytes]:
    """Puts ``doctype`` before the root element (and ``reference`` into the first cell text)."""

    def change(xml: bytes) -> bytes:
        if xml.startswith(b"<?xml"):
            decl, rest = xml.split(b"?>", 1)
            head = decl + b"?>"
        else:
            head, rest = b"", xml
        if reference:
            rest = rest.replace(b"<t>", b"<t>" + reference, 1)
        return head + doctype + rest

    return change


def sheet_members(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


def with_streamed_comment(data: bytes, member: str, size: int) -> bytes:
    """Replaces ``member`` with a worksheet whose root holds an XML comment of
    ``size`` bytes, written chunk by chunk (fast level-1 deflate)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info.filename, src.read(info.filename))
                continue
            with dst.open(member, "w", force_zip64=size > 2**31) as fh:
                fh.write(
                    b'<?xml version="1.0"?><worksheet xmlns='
                    b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><!--'
                )
                chunk = b"x" * MIB
                left = size
                while left > 0:
                    fh.write(chunk[: min(left, MIB)])
                    left -= MIB
                fh.write(b"--><sheetData/></worksheet>")
    return out.getvalue()


def sheet_with_cell(ref: str, row: int) -> Callable[[bytes], bytes]:
    """A worksheet whose header row is kept and which has one more cell at ``ref``."""

    def change(xml: bytes) -> bytes:
        cell = b'<row r="%d"><c r="%s" t="inlineStr"><is><t>x</t></is></c></row>' % (
            row,
            ref.encode(),
        )
        return xml.replace(b"</sheetData>", cell + b"</sheetData>", 1)

    return change


def flag_encrypted(data: bytes, member: str) -> bytes:
    """Sets the 'encrypted' bit of ``member`` in the central directory (what
    zipfile and every reader go by)."""
    buf = bytearray(data)
    name = member.encode()
    at = 0
    while (at := buf.find(b"PK\x01\x02", at)) != -1:
        (name_len,) = struct.unpack_from("<H", buf, at + 28)
        if bytes(buf[at + 46 : at + 46 + name_len]) == name:
            (flags,) = struct.unpack_from("<H", buf, at + 8)
            struct.pack_into("<H", buf, at + 8, flags | 0x1)
            return bytes(buf)
        at += 4
    raise AssertionError(f"{member} not in the zip")
