"""A squad leader in a real browser (C6.1): opens the ledgers from the
navigation, picks November, downloads both files, confirms the month; a
recording added afterwards shows as an amendment, the figures stay."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from jilu.audit.models import AuditEntry
from jilu.oversight.ledger_models import LedgerConfirmation

pytestmark = pytest.mark.browser


def test_squad_leader_opens_downloads_and_confirms_the_month(
    transactional_db, page, november, tree, make_recording
):
    from openpyxl import load_workbook

    sign_in(page, "squad_leader")
    page.wait_for_url(page.base_url + "/")
    page.locator("nav.mainnav").get_by_role("link", name="台账").click()
    expect(page.locator("h1")).to_have_text("台账")
    # The picker offers the leader's own squad only.
    expect(page.locator("select[name=unit] option")).to_have_text(["中华中队"])
    page.fill("input[name=month]", "2026-11")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#ledger-status h2")).to_contain_text("2026年11月")
    expect(page.locator("#unconfirmed")).to_be_visible()
    expect(page.locator("#recordings-total .count")).to_have_text("5")
    expect(page.locator('#recorder-ledger tr[data-serial="A000001"] .dockings')).to_have_text("2")

    with page.expect_download() as info:
        page.click("#download-xlsx")
    download = info.value
    assert download.suggested_filename == f"台账_{tree['squad1'].code}_202611.xlsx"
    wb = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    total = [r for r in wb["声像记录台账"].iter_rows(values_only=True) if r[0] == "合计"][0]
    assert total[4] == 5
    with page.expect_download() as info:
        page.click("#download-pdf")
    assert open(info.value.path(), "rb").read(5) == b"%PDF-"

    page.click("#confirm-ledger")
    expect(page.locator(".messages")).to_contain_text("已确认 中华中队 2026年11月台账")
    expect(page.locator("#confirmed")).to_be_visible()
    expect(page.locator("#confirm-ledger")).to_have_count(0)
    expect(page.locator("#no-amendments")).to_be_visible()
    confirmation = LedgerConfirmation.objects.get()
    entry = AuditEntry.objects.get(action="oversight.ledger.confirm")
    assert entry.details["sha256"] == confirmation.sha256
    expect(page.locator("#ledger-status")).to_contain_text(confirmation.sha256)

    # A recording of 29 November collected after the confirmation.
    make_recording("officer", start=datetime(2026, 11, 29, 1, 0, tzinfo=UTC), minutes=8)
    page.reload()
    expect(page.locator("#recordings-total .count")).to_have_text("5")
    amendment = page.locator("#amendments tr[data-kind=added]")
    expect(amendment).to_contain_text("2026-11-29 王五")
    expect(page.locator("#amendments tr[data-key=A000001]")).to_contain_text(
        re.compile(r"录像条数：3 → 4")
    )
