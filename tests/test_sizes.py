"""One convention for sizes on every page and printout: decimal units, as a
recorder's screen shows its storage and a disc states its capacity. The same
reading once showed as 68.72 GB on the recorder page and 64.0 GB on the
docking page (Django's binary ``filesizeformat``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template import Context, Template

from jilu.org.sizes import human_size

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, "—"),
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.00 KB"),
        (68_719_476_736, "68.72 GB"),  # 64 GiB, as a recorder reports it
        (4_700_000_000, "4.70 GB"),  # a DVD
        (3_200_000_000_000, "3.20 TB"),
    ],
)
def test_human_size_is_decimal(size, text):
    assert human_size(size) == text


def test_the_template_filter_and_the_recorder_page_agree():
    from jilu.devices.templatetags.devices_extras import gb

    reading = 68_719_476_736
    rendered = Template("{% load sizes %}{{ n|size }}").render(Context({"n": reading}))
    assert rendered == gb(reading) == "68.72 GB"


def test_no_template_uses_binary_sizes():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "jilu").rglob("*.html")
        if "filesizeformat" in p.read_text()
    ]
    assert offenders == [], "use {% load sizes %}…|size (decimal units) instead"
