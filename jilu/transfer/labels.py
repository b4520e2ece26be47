"""Label text for the disc and the bag it travels in (C5.5: the disc goes in a
labelled bag on the last cover of volume one of the case file).

Every hash printed here is named by the file it is of: a disc's labels carry
that disc's ``manifest-sha256.txt`` SHA-256 (the file is on the disc, so a
reviewer can recompute it); the package's print sheet adds the package hash
(SHA-256 of ``package-manifest.txt``, by which the hand-over is recorded)
with that file's lines, each of which is a disc's label hash.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from jilu.org.sizes import human_size  # one convention everywhere; others read it here

# Characters no file name may hold on Windows (and control characters).
_NOT_IN_FILE_NAMES = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")


def file_name_part(text: str, fallback: str = "case") -> str:
    """``text`` (a case number) made safe as part of a downloaded file's name:
    characters Windows forbids become ``-``, spaces ``_``; Chinese stays."""
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub("_", _NOT_IN_FILE_NAMES.sub("-", text)).strip(" ._-")
    return text[:80] or fallback


def iso_download_name(case_number: str, disc_no: int) -> str:
    """``<case number>-disc-01.iso``: the name a disc image downloads under."""
    return f"{file_name_part(case_number)}-disc-{disc_no:02d}.iso"


@dataclass(frozen=True)
class Label:
    case_number: str
    case_title: str
    party: str
    unit: str
    handler: str
    disc_no: int
    disc_count: int
    disc_kind: str
    files: int
    recordings: int
    total_bytes: int
    manifest_sha256: str
    created: str

    @property
    def disc_of(self) -> str:
        return f"第 {self.disc_no} 张 共 {self.disc_count} 张"

    def disc_text(self) -> str:
        """What is printed on the disc itself (short lines for a disc label)."""
        return "\n".join(
            [
                "行政执法音像记录光盘",
                f"案件编号：{self.case_number}",
                f"相对人：{self.party}",
                f"承办单位：{self.unit}",
                f"{self.disc_of}（{self.disc_kind}）",
                f"文件数：{self.files}（音像记录 {self.recordings} 个）",
                f"总大小：{human_size(self.total_bytes)}（{self.total_bytes} 字节）",
                # Named by its file, as on the bag label and every page.
                f"manifest-sha256.txt 的 SHA-256：{self.manifest_sha256}",
                f"制作时间：{self.created}",
            ]
        )

    def bag_text(self) -> str:
        """What is printed on the disc bag on the case file's last cover."""
        return "\n".join(
            [
                "音像记录光盘袋",
                f"案件编号：{self.case_number}",
                f"案由：{self.case_title or '—'}",
                f"相对人：{self.party}",
                f"承办单位：{self.unit}",
                f"承办人：{self.handler}",
                f"光盘：{self.disc_of}",
                f"文件数：{self.files}（音像记录 {self.recordings} 个）",
                f"总大小：{human_size(self.total_bytes)}（{self.total_bytes} 字节）",
                f"manifest-sha256.txt 的 SHA-256：{self.manifest_sha256}",
                f"制作时间：{self.created}",
            ]
        )

    def text(self) -> str:
        return f"【光盘标签】\n{self.disc_text()}\n\n【光盘袋标签】\n{self.bag_text()}\n"


def package_manifest_text(discs: Iterable[tuple[int, str]]) -> str:
    """``package-manifest.txt``: one line per disc, ``(number, manifest-sha256.txt SHA-256)``.

    The hand-over is recorded by this text's SHA-256 (the package hash). It
    cannot be on a disc (it is made of every disc's hash), so it is printed
    on the package's label sheet and rebuilt on the review page from the
    stored discs: each line holds a hash that is printed on a disc's label.
    """
    return "".join(f"{sha256}  disc-{number:02d}/manifest-sha256.txt\n" for number, sha256 in discs)


def package_labels(disc_labels: list[str], package_manifest: str, package_hash: str) -> str:
    """The print sheet: every disc's labels, then the package hash and its lines."""
    return "\n".join(
        [
            *disc_labels,
            "【光盘包（移送登记）】",
            f"光盘包哈希（package-manifest.txt 的 SHA-256，移送时登记）：{package_hash}",
            "package-manifest.txt 不在光盘上，它由各盘 manifest-sha256.txt 的 SHA-256 组成，"
            "每盘一行，内容如下（与各盘标签上的哈希一致）：",
            package_manifest,
        ]
    )


def package_sha256(discs: Iterable[tuple[int, str]]) -> str:
    """The package hash: SHA-256 of :func:`package_manifest_text`."""
    return hashlib.sha256(package_manifest_text(discs).encode()).hexdigest()
