"""Shared helpers for the casework pages (see ``jilu.casework.views``).

Every page narrows its querysets with ``restrict(user, action)``; every change
goes through ``jilu.casework.actions``. An object outside the user's view scope
is a 404; one the user sees but may not change is a 403.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest

from jilu.casework import actions

PAGE_SIZE = 50


def _page(request: HttpRequest, qs: Any):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _party_from(form, *, actor, unit) -> Any:
    data = form.cleaned_data
    if data.get("party"):
        return data["party"]
    name = (data.get("new_party_name") or "").strip()
    if not name:
        return None
    return actions.find_or_create_party(
        actor=actor,
        unit=unit,
        kind=data["new_party_kind"],
        name=name,
        id_number=data.get("new_party_id_number", ""),
    )
