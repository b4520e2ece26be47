"""Forms of the package page and the review page (C5.5)."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from jilu.transfer.models import DiscType, Review, RowMark

# Where discs are mounted on the server; only these are read (settings.TRANSFER_MOUNT_ROOTS).
MOUNT_ROOTS = ("/media", "/mnt")


class BuildForm(forms.Form):
    disc = forms.ChoiceField(label=_("光盘类型"), choices=DiscType.choices, initial=DiscType.DVD)


class TransferForm(forms.Form):
    note = forms.CharField(label=_("移送说明"), max_length=300, required=False)
    # Asked only when some activity is not recorded in full (C2.1, C4.3).
    coverage_ack = forms.BooleanField(
        label=_("我已核对上列未全程录制的活动，仍要移送；此提示将记入审计日志"),
        required=False,
        widget=forms.CheckboxInput(attrs={"required": True}),
    )


class UploadIsoForm(forms.Form):
    iso = forms.FileField(
        label=_("光盘镜像（ISO）"),
        help_text=_("上传收到的光盘或其 ISO 镜像，逐个文件重新计算 SHA-256 与 SM3 并与清单核对"),
    )

    def clean_iso(self):
        f = self.cleaned_data["iso"]
        if not f.name.lower().endswith(".iso"):
            raise forms.ValidationError(_("请上传 .iso 光盘镜像文件"))
        return f


class MountedDiscForm(forms.Form):
    """A disc mounted on the server (or an ISO extracted there), by its directory."""

    path = forms.CharField(
        label=_("光盘挂载目录"),
        max_length=500,
        help_text=_("服务器上光驱的挂载目录，或解压光盘镜像的目录"),
    )

    def clean_path(self):
        raw = self.cleaned_data["path"].strip()
        roots = [Path(r).resolve() for r in getattr(settings, "TRANSFER_MOUNT_ROOTS", MOUNT_ROOTS)]
        path = Path(raw).resolve()
        if not any(path == r or r in path.parents for r in roots):
            raise forms.ValidationError(
                _("只能核验以下目录中的光盘：%(roots)s")
                % {"roots": "、".join(str(r) for r in roots)}
            )
        if not path.is_dir():
            raise forms.ValidationError(
                _("目录不存在：%(p)s；请确认光盘已放入光驱并挂载") % {"p": raw}
            )
        return path


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[
            (Review.Decision.ACCEPTED, _("审核通过")),
            (Review.Decision.RETURNED, _("退回补正")),
        ],
    )
    note = forms.CharField(
        label=_("审核意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


def row_marks(data, list_nos: list[int]) -> list[tuple[int, str, str]]:
    """(序号, verdict, reason) for every row whose verdict was chosen on the review page."""
    out = []
    for no in list_nos:
        verdict = data.get(f"verdict_{no}", "")
        if verdict in RowMark.Verdict.values:
            out.append((no, verdict, data.get(f"reason_{no}", "").strip()))
    return out
