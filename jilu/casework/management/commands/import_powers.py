"""``jilu import_powers UNIT_CODE FILE.xlsx``: load a unit's list of powers (权责清单)."""

from __future__ import annotations

from dataclasses import replace

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jilu.casework import powers
from jilu.casework.powers import import_powers
from jilu.org.models import Unit
from jilu.workbooks import BACKGROUND_SECONDS

# Read under the same limits as an upload, with the background budget of time.
LIMITS = replace(powers.LIMITS, seconds=BACKGROUND_SECONDS)


class Command(BaseCommand):
    help = "导入单位的权责清单（XLSX：事项编码、事项名称、执法类别、设定依据）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("unit_code", help="单位编号（12位）")
        parser.add_argument("path", help="XLSX 文件路径")

    def handle(self, *args, unit_code: str, path: str, **options) -> None:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise CommandError(f"没有单位编号为 {unit_code} 的单位")
        try:
            with open(path, "rb") as fh:
                result = import_powers(
                    actor="system:import_powers", unit=unit, stream=fh, limits=LIMITS
                )
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{path}") from None
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(
            f"{unit.name}：新增 {result['created']} 项，更新 {result['updated']} 项，"
            f"停用 {result['retired']} 项"
        )
