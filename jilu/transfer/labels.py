"""Label text for the disc and the bag it travels in (C5.5: the disc goes in a
labelled bag on the last cover of volume one of the case file)."""

from __future__ import annotations

from dataclasses import dataclass


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    return f"{size} B"


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
                f"清单哈希（SHA-256）：{self.manifest_sha256}",
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
