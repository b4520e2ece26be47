"""The background tasks in words, for the task page: what each does and what
it works on, never a function name or ``18, force=False``.

Each app registers its own tasks (evidence here; ingest and transfer from
their ``AppConfig.ready()``), so this page names tasks of apps above it
without importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class TaskLabel:
    title: Any  # lazy text
    # (args, kwargs) -> what the task works on, in words
    describe: Callable[[list, dict], str]


_labels: dict[str, TaskLabel] = {}


def register(task_path: str, title: Any, describe: Callable[[list, dict], str]) -> None:
    _labels[task_path] = TaskLabel(title, describe)


def label_of(task_path: str, args: list, kwargs: dict) -> tuple[str, str]:
    """(title, subject) of a task run; an unregistered task is named by its path."""
    found = _labels.get(task_path)
    if found is None:
        return task_path.rsplit(".", 1)[-1], ", ".join(
            [str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()]
        )
    try:
        subject = found.describe(args, kwargs)
    except (IndexError, KeyError, TypeError, ValueError):
        subject = ""
    return str(found.title), subject


def first_arg(args: list, kwargs: dict, name: str) -> Any:
    return args[0] if args else kwargs.get(name)


def _processing(args: list, kwargs: dict) -> str:
    text = _("声像记录 #%(id)s") % {"id": first_arg(args, kwargs, "recording_id")}
    force = args[1] if len(args) > 1 else kwargs.get("force", False)
    return text + (_("（重新处理）") if force else "")


def _fixity(args: list, kwargs: dict) -> str:
    parts = int(kwargs.get("parts", args[2] if len(args) > 2 else 1) or 1)
    part = int(kwargs.get("part", args[1] if len(args) > 1 else 0) or 0)
    if parts > 1:
        return _("到期对象的第 %(n)s 份（共 %(m)s 份）") % {"n": part + 1, "m": parts}
    return _("到期的存储对象")


register(
    "jilu.evidence.tasks.process_recording",
    gettext_lazy("处理声像记录（检测完整性、缩略图、播放副本）"),
    _processing,
)
register(
    "jilu.evidence.fixity_tasks.fixity_batch",
    gettext_lazy("固定性校验（重新计算哈希，C6.5.3）"),
    _fixity,
)
