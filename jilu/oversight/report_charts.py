"""Charts of the reports and dashboards (C6.4), drawn by matplotlib as SVG.

Text is drawn as outlines (``svg.fonttype = "path"``) from Debian's Noto Sans
CJK, so a chart reads the same in a browser, in WeasyPrint's PDF and on a
machine without the font. The pages serve the SVG as images from their own
address, which the Content-Security-Policy allows (no inline style or script).
Only ``matplotlib.figure.Figure`` is used, never pyplot: no global state,
safe in several threads.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
COLOURS = {
    "coverage": "#2b6cb0",
    "collection": "#2f855a",
    "annotation": "#b7791f",
    "drift": "#c53030",
    "open": "#c53030",
    "explained": "#b7791f",
    "confirmed": "#744210",
    "dismissed": "#a0aec0",
}
_font_ready = False


def _setup() -> None:
    global _font_ready
    if _font_ready:
        return
    import matplotlib

    matplotlib.rcParams["svg.fonttype"] = "path"
    matplotlib.rcParams["svg.hashsalt"] = "jilu"  # the same figures give the same bytes
    from matplotlib import font_manager

    for path in FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            matplotlib.rcParams["font.family"] = ["Noto Sans CJK SC", "sans-serif"]
            break
    matplotlib.rcParams["axes.unicode_minus"] = False
    _font_ready = True


def rate_labels() -> dict[str, str]:
    return {
        "coverage": _("执法活动有记录率"),
        "collection": _("24小时采集率"),
        "annotation": _("48小时标注率"),
        "drift": _("时钟偏差超限比例"),
    }


def state_labels() -> dict[str, str]:
    return {
        "open": _("待说明"),
        "explained": _("已说明"),
        "confirmed": _("认定属实"),
        "dismissed": _("认定不成立"),
    }


def _svg(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def _figure(width: float, height: float):
    _setup()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=96)
    return fig, fig.add_subplot()


def _headroom(ax, totals: list[int]) -> None:
    """Room above the highest bar for the legend."""
    ax.set_ylim(0, max([*totals, 1]) * 1.4)


def no_data(text: str) -> bytes:
    """A chart with nothing to draw: the sentence saying so, not empty axes."""
    fig, ax = _figure(8.0, 0.8)
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color="#555555")
    return _svg(fig)


def rates_by_unit(rows: list[dict[str, Any]], goals: dict[str, int]) -> bytes:
    """Grouped bars: each unit's coverage, 24 h and 48 h rates, the goals as lines."""
    import numpy as np

    names = [r["name"] for r in rows] or [_("（无）")]
    fig, ax = _figure(max(8.0, 1.1 * len(names) + 2), 3.2)
    x = np.arange(len(names))
    labels = rate_labels()
    keys = ("coverage", "collection", "annotation")
    width = 0.26
    for i, key in enumerate(keys):
        values = [r[key] if r[key] is not None else 0 for r in rows] or [0]
        ax.bar(x + (i - 1) * width, values, width, label=labels[key], color=COLOURS[key])
        ax.axhline(goals[key], color=COLOURS[key], linestyle="--", linewidth=0.8)
    ax.set_xticks(x, names, rotation=20 if len(names) > 4 else 0, ha="right", fontsize=8)
    ax.set_ylim(0, 125)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_ylabel("%")
    ax.legend(fontsize=8, loc="upper center", ncols=3, frameon=False)
    ax.set_title(_("各单位执法活动有记录率、24小时采集率、48小时标注率（虚线为目标）"), fontsize=10)
    return _svg(fig)


def drift_by_unit(rows: list[dict[str, Any]], goal: int, threshold: int) -> bytes:
    """Bars: each unit's share of dockings with the clock off by more than the threshold."""
    names = [r["name"] for r in rows] or [_("（无）")]
    values = [r["drift"] if r["drift"] is not None else 0 for r in rows] or [0]
    fig, ax = _figure(max(8.0, 0.9 * len(names) + 2), 2.4)
    ax.bar(names, values, color=COLOURS["drift"], width=0.5)
    ax.axhline(goal, color="#333333", linestyle="--", linewidth=0.8)
    ax.tick_params(axis="x", labelsize=8, labelrotation=20 if len(names) > 4 else 0)
    ax.set_ylabel("%")
    ax.set_ylim(0, max(10.0, max(values) * 1.2))
    ax.set_title(
        _("对接时时钟偏差超过 %(s)s 秒的比例（虚线为目标上限）") % {"s": threshold}, fontsize=10
    )
    return _svg(fig)


def findings_by_clause(rows: list[dict[str, Any]]) -> bytes:
    """Stacked bars: findings per clause by state."""
    clauses = [r["clause"] for r in rows] or [_("（无）")]
    fig, ax = _figure(max(8.0, 0.6 * len(clauses) + 2), 2.8)
    bottom = [0] * len(clauses)
    _headroom(ax, [r["total"] for r in rows])
    for state, label in state_labels().items():
        values = [r[state] for r in rows] or [0]
        ax.bar(clauses, values, bottom=bottom, label=label, color=COLOURS[state], width=0.6)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.tick_params(axis="x", labelsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, ncols=4, loc="upper center", frameon=False)
    ax.set_title(_("督察发现：按条款和状态"), fontsize=10)
    return _svg(fig)


def findings_trend(rows: list[dict[str, Any]]) -> bytes:
    """Stacked bars: findings per month by state (the inspector's home)."""
    months = [r["month"] for r in rows]
    fig, ax = _figure(6.5, 2.8)
    bottom = [0] * len(months)
    _headroom(ax, [r["total"] for r in rows])
    for state, label in state_labels().items():
        values = [r[state] for r in rows]
        ax.bar(months, values, bottom=bottom, label=label, color=COLOURS[state], width=0.6)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.tick_params(axis="x", labelsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, ncols=4, loc="upper center", frameon=False)
    ax.set_title(_("近几个月的督察发现（按发现所属月份）"), fontsize=10)
    return _svg(fig)


def unit_rates(total: dict[str, Any], goals: dict[str, int]) -> bytes:
    """Horizontal bars: the unit's four rates, each with its goal marked (dashboards)."""
    labels = rate_labels()
    keys = ("coverage", "collection", "annotation", "drift")
    fig, ax = _figure(6.0, 2.6)
    values = [total[k] if total[k] is not None else 0 for k in keys]
    names = [labels[k] for k in keys]
    ax.barh(names, values, color=[COLOURS[k] for k in keys], height=0.5)
    for i, key in enumerate(keys):
        ax.plot([goals[key], goals[key]], [i - 0.35, i + 0.35], color="#111111", linewidth=1.5)
        text = "—" if total[key] is None else f"{total[key]}%"
        ax.text(min(values[i], 100) + 1, i, text, va="center", fontsize=8)
    ax.set_xlim(0, 112)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(_("本单位各项比率（黑线为目标）"), fontsize=10)
    return _svg(fig)
