"""Standard file names (C5.3) and their agreement with the record list (A2 rule 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jilu.casework import naming

DAY = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(i) for i in range(32)}
JOLIET_FORBIDDEN = {";"}


def _name(party: str, **kw) -> str:
    fields = {"unit": "思明区城管执法大队", "party": party, "date": DAY, "step": "现场勘验"}
    fields.update(kw)
    return naming.base_name(**fields)


def test_the_example_of_the_issue():
    # C5.3: 单位名称+行政执法相对人+检查日期+检查内容
    assert (
        _name("厦门某某餐饮有限公司") == "思明区城管执法大队_厦门某某餐饮有限公司_20261126_现场勘验"
    )


def test_date_is_the_local_date_in_xiamen():
    late_evening_utc = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # 01:30 on the 26th locally
    assert "_20261126_" in _name("某店", date=late_evening_utc)


@pytest.mark.parametrize("bad", list('/\\:*?"<>|;'))
def test_every_forbidden_character_is_replaced(bad):
    name = _name(f"厦门{bad}某某{bad}公司")
    assert bad not in name
    assert "厦门-某某-公司" in name


def test_emoji_and_invisible_characters_are_dropped():
    name = _name("某某\u202e餐厅😀\u200b\tX")
    assert name == "思明区城管执法大队_某某餐厅 X_20261126_现场勘验"


def test_reserved_device_names_and_trailing_dots():
    assert (
        not naming.base_name(unit="CON", party="x", date=DAY, step="y", tmpl="{unit}")
        .upper()
        .startswith("CON")
    )
    assert not _name("某某公司. . .", tmpl="{party}").endswith(".")


def test_long_party_name_is_shortened_and_date_and_step_survive():
    name = _name("长" * 300)
    assert naming.utf8_len(name) <= naming.MAX_STEM_BYTES
    assert name.endswith("_20261126_现场勘验")
    assert name.startswith("思明区城管执法大队_长")


def test_empty_party_falls_back():
    assert "_无相对人_" in _name("   ")


def test_list_prefix_and_suffix():
    assert naming.list_prefix(1, 9) == "01_"
    assert naming.list_prefix(7, 120) == "007_"
    first = naming.standard_name("甲", list_no=None, total=0, taken=[])
    second = naming.standard_name("甲", list_no=None, total=0, taken=[first])
    third = naming.standard_name("甲", list_no=None, total=0, taken=[first, second])
    assert (first, second, third) == ("甲", "甲-2", "甲-3")


def test_unknown_template_field_is_refused(settings):
    settings.CASEWORK_NAME_TEMPLATE = "{unit}_{nonsense}"
    with pytest.raises(ValueError, match="nonsense"):
        naming.template()


def test_template_is_configurable(settings):
    settings.CASEWORK_NAME_TEMPLATE = "{date}-{party}-{step}"
    assert _name("某店") == "20261126-某店-现场勘验"


hostile = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(list('/\\:*?"<>|;. \t\n\x00') + ["😀", "長", "\u202e", "\u200b"]),
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(party=hostile, unit=hostile, step=hostile)
def test_names_are_always_safe(party, unit, step):
    name = naming.base_name(unit=unit, party=party, date=DAY, step=step)
    assert name
    assert not (set(name) & (WINDOWS_FORBIDDEN | JOLIET_FORBIDDEN))
    assert all(ord(c) <= 0xFFFF for c in name)
    assert naming.utf8_len(name) <= naming.MAX_STEM_BYTES
    assert name == name.strip(" .")
    assert name.split(".")[0].upper() not in naming.RESERVED
    # The full file name with an extension stays within 255 bytes.
    assert naming.utf8_len(name + ".jpeg") <= 255


@settings(max_examples=200, deadline=None)
@given(
    parties=st.lists(hostile, min_size=1, max_size=12),
)
def test_names_in_a_case_are_unique_and_numbered(parties):
    taken: list[str] = []
    total = len(parties)
    for i, party in enumerate(parties, start=1):
        base = naming.base_name(unit="思明区城管执法大队", party=party, date=DAY, step="现场勘验")
        name = naming.standard_name(base, list_no=i, total=total, taken=taken)
        assert name.startswith(naming.list_prefix(i, total))
        assert naming.utf8_len(name) <= naming.MAX_STEM_BYTES
        taken.append(name)
    assert len(set(taken)) == len(taken)


@settings(max_examples=200, deadline=None)
@given(base=hostile, n=st.integers(min_value=1, max_value=30))
def test_identical_names_get_numbered_suffixes(base, n):
    stem = naming.base_name(unit="单位", party=base, date=DAY, step="送达")
    taken: list[str] = []
    for _ in range(n):
        taken.append(naming.standard_name(stem, list_no=None, total=0, taken=taken))
    assert len(set(taken)) == n
    assert all(naming.utf8_len(t) <= naming.MAX_STEM_BYTES for t in taken)


@given(text=st.text(max_size=200), limit=st.integers(min_value=0, max_value=300))
def test_truncation_never_splits_a_character(text, limit):
    cut = naming.truncate_bytes(text, limit)
    assert text.startswith(cut)
    assert naming.utf8_len(cut) <= max(limit, 0)
