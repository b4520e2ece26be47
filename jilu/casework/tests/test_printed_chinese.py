"""Printed legal documents stay Chinese whatever the page language.

The AV record list (A2, C5.4) as PDF and XLSX, the standard file names (C5.3)
and the Attachment 1 statement card (A1, C4.1) are legal documents: with
English active they are still written in Chinese, while the web UI's model
choices (执法类别, 活动类型 …) are translated.
"""

from __future__ import annotations

import subprocess
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from jilu.casework import actions, recordlist
from jilu.casework.coverage import activity_coverage
from jilu.casework.models import Annotation, Category
from jilu.casework.tests.documents_data import build_case


@pytest.fixture
def data(people, tree, recorders, party):
    return build_case(people, tree, recorders, party)


def test_ui_choices_are_translated_in_english(data):
    with translation.override("en"):
        assert str(Category.PENALTY.label) == "Administrative penalty"
        assert data["activities"][0].get_kind_display().startswith("Patrol")
        assert "unrecorded" in activity_coverage(data["activities"][0]).label


def test_record_list_pdf_and_xlsx_stay_chinese_in_english(data, tmp_path, poppler):
    """C5.4 / A2: the list reviewers check against is printed in Chinese."""
    with translation.override("en"):
        built = recordlist.build(data["case"])
        pdf = recordlist.render_pdf(built)
        xlsx = recordlist.render_xlsx(built)
    path = tmp_path / "list.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    assert "行政执法音像记录事项清单" in flat
    assert "行政处罚" in flat and "现场勘验" in flat
    assert "Administrative" not in flat and "Site survey" not in flat
    ws = load_workbook(BytesIO(xlsx)).active
    cells = [c.value for row in ws.iter_rows() for c in row]
    assert "行政处罚" in cells and "现场勘验" in cells


def test_standard_names_stay_chinese_in_english(data, people):
    """C5.3: names made while English is active are still Chinese."""
    ann = Annotation.objects.filter(case=data["case"]).order_by("list_no").first()
    with translation.override("en"):
        actions.annotate(
            actor=people["officer"], recording=ann.recording, activity=ann.activity, step="inquiry"
        )
    ann.refresh_from_db()
    assert "询问笔录" in ann.standard_name and "Inquiry" not in ann.standard_name


def test_statement_card_stays_chinese_in_english(data, people):
    """A1 / C4.1: the printed card of the opening statement is Chinese."""
    c = Client()
    c.force_login(people["officer"])
    c.cookies["django_language"] = "en"
    act = data["activities"][0]
    url = reverse("casework_docs:script_card", args=[act.pk])
    body = c.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "巡查检查、现场勘验、取证" in body or "执法" in body
    assert "Patrol and inspection" not in body
