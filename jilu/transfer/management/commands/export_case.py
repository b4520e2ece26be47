"""``jilu export-case CASE_NUMBER --out DIR [--disc dvd|dvd-dl|bd]``: build a
case's disc package from the command line (C5.5), printing progress and a summary."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jilu.casework.models import Case
from jilu.transfer.bag import PackageError
from jilu.transfer.builder import build_package
from jilu.transfer.discs import CAPACITIES
from jilu.transfer.labels import human_size

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "生成案件的光盘包（音像记录、清单 PDF/XLSX、BagIt 清单、index.html、ISO 映像）。"
        " Build the case's disc package: recordings, record list, BagIt manifests, index.html, ISO."
    )

    def add_arguments(self, parser):
        parser.add_argument("case_number", help="案件编号 (case number)")
        parser.add_argument("--out", required=True, help="输出目录（须为空或不存在）")
        parser.add_argument(
            "--disc",
            choices=sorted(CAPACITIES),
            default="dvd",
            help="光盘类型：dvd 4.7 GB，dvd-dl 8.5 GB，bd 25 GB（默认 dvd）",
        )
        parser.add_argument("--json", action="store_true", help="最后输出一行 JSON 摘要")

    def handle(self, *args, **options):
        number = options["case_number"].strip()
        case = Case.objects.select_related("unit", "handler", "party").filter(number=number).first()
        if case is None:
            raise CommandError(
                f"找不到案件编号为 {number!r} 的案件：请核对案件编号。(unknown case)"
            )
        out = Path(options["out"])
        self._last = (-1, 0.0, "")

        def progress(done: int, total: int, message: str) -> None:
            pct = int(done * 100 / total) if total else 100
            now = time.monotonic()
            if pct != self._last[0] or message != self._last[2] or now - self._last[1] > 5:
                self._last = (pct, now, message)
                self.stdout.write(f"[{pct:3d}%] {human_size(done)} / {human_size(total)} {message}")
                self.stdout.flush()

        try:
            result = build_package(case, out, disc=options["disc"], progress=progress)
        except PackageError as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except Exception:
            # Anything else: a plain message here, the traceback in the log.
            logger.exception("export-case %s failed", number)
            raise CommandError(
                "制作光盘包失败，输出目录中未留下不完整的文件："
                "请稍后重试；如仍失败，请联系系统管理员查看日志。"
            ) from None
        self.stdout.write("")
        self.stdout.write(
            f"案件 {result.case_number}：{result.recordings} 个音像记录，"
            f"{human_size(result.recording_bytes)}，{len(result.discs)} 张光盘（{result.disc_kind}），"
            f"用时 {result.seconds:.1f} 秒"
        )
        for d in result.discs:
            self.stdout.write(
                f"  第 {d.number} 张 共 {d.count} 张：{d.iso_path}（{human_size(d.iso_size)}），"
                f"{len(d.files)} 个文件，manifest-sha256.txt SHA-256 {d.manifest_sha256}"
            )
        self.stdout.write(
            f"光盘包哈希（package-manifest.txt 的 SHA-256，移送时登记；"
            f"不在光盘上，由各盘 manifest-sha256.txt 的 SHA-256 组成）：{result.manifest_sha256}"
        )
        self.stdout.write(f"标签文字：{result.out_dir / 'labels.txt'}")
        if options["json"]:
            self.stdout.write(json.dumps(result.to_json(), ensure_ascii=False))
