"""Importing a roster: plan it, then apply every change through the actions
(so each one is audited), all in one transaction or not at all.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction

from jilu.audit.chain import record
from jilu.org import actions
from jilu.org.models import Person, Unit
from jilu.org.roster.base import (
    PERSON_HEADERS,
    SHEET_PEOPLE,
    SHEET_UNITS,
    UNIT_HEADERS,
    Change,
    Plan,
    RosterChanged,
    RosterFileError,
    RosterInvalid,
    RowError,
    _messages,
)
from jilu.org.roster.planning import _Planner
from jilu.org.roster.reading import LIMITS, _load_workbook, _rows, _sheet
from jilu.workbooks import Limits, WorkbookRefused


def plan_import(
    data: bytes,
    *,
    user: Any | None,
    limits: Limits = LIMITS,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Check every row and work out what importing would do. Writes nothing.

    ``user`` is the importing person (their scope limits what may change);
    ``None`` only for the ``jilu import-roster`` command run on the server.
    The workbook is read under ``limits`` (``jilu.workbooks``; the request
    thread's time budget unless a background reading passes its own).
    Raises RosterFileError when the file cannot be read as a roster or is refused.
    """
    wb = _load_workbook(data, limits=limits, progress=progress)
    try:
        unit_rows = _rows(wb, _sheet(wb, SHEET_UNITS), SHEET_UNITS, UNIT_HEADERS)
        people_rows = _rows(wb, _sheet(wb, SHEET_PEOPLE), SHEET_PEOPLE, PERSON_HEADERS)
    except WorkbookRefused as exc:
        raise RosterFileError(str(exc)) from None
    finally:
        wb.close()
    planner = _Planner(user)
    units = planner.plan_units(planner.parse_units(unit_rows))
    people = planner.plan_people(planner.parse_people(people_rows))
    order = Unit.LEVEL_ORDER
    units.sort(key=lambda c: (order.index(planner.sheet_units[c.key].level), c.row))
    return Plan(units, people, planner.errors(), hashlib.sha256(data).hexdigest())


def apply_import(
    data: bytes,
    *,
    user: Any | None,
    actor: Any,
    expected_digest: str | None = None,
    limits: Limits = LIMITS,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Import the roster: everything or nothing.

    Raises RosterInvalid (nothing imported) when any row is bad, and
    RosterChanged when ``expected_digest`` (from the preview) no longer
    matches what would be applied.
    """
    plan = plan_import(data, user=user, limits=limits, progress=progress)
    if not plan.ok:
        raise RosterInvalid(plan)
    if expected_digest is not None and plan.digest != expected_digest:
        raise RosterChanged(plan)
    current: Change | None = None
    try:
        with transaction.atomic():
            for current in plan.units:
                _apply_unit(current, actor)
            units = {u.code: u for u in Unit.objects.all()}  # after any moves above
            for current in plan.people:
                _apply_person(current, actor, units)
            record(
                "org.roster.import",
                actor=actor,
                details={
                    "sha256": plan.sha256,
                    "units": plan.counts("units"),
                    "people": plan.counts("people"),
                },
            )
    except (ValidationError, IntegrityError, ObjectDoesNotExist) as exc:
        # Something changed between the check and the write (another administrator
        # at the same moment): the transaction is rolled back, nothing is imported.
        assert current is not None
        message = (
            _messages(exc)
            if isinstance(exc, ValidationError)
            else "导入时数据被其他人同时修改，未导入任何数据，请重新上传名册"
        )
        raise RosterInvalid(
            replace(plan, errors=[RowError(current.sheet, current.row, message)])
        ) from exc
    return plan


def _unit(code: str | None) -> Unit | None:
    # Fetched fresh each time: moving a unit rewrites its descendants' paths.
    return Unit.objects.get(code=code) if code else None


def _apply_unit(change: Change, actor: Any) -> None:
    values = dict(change.values)
    if change.op == "create":
        parent = _unit(values.pop("parent"))
        actions.create_unit(actor=actor, parent=parent, **values)
    elif change.op == "update":
        parent = _unit(values.pop("parent")) if "parent" in values else None
        actions.update_unit(actor=actor, unit=_unit(change.key), parent=parent, **values)


def _apply_person(change: Change, actor: Any, units: dict[str, Unit]) -> None:
    values = dict(change.values)
    if "unit" in values:
        values["unit"] = units[values["unit"]]
    roles = values.pop("roles", None)
    if change.op == "create":
        actions.create_person(actor=actor, roles=sorted(roles or ()), **values)
    elif change.op == "update":
        person = Person.objects.get(username=change.key)
        actions.update_person(
            actor=actor, person=person, roles=sorted(roles) if roles is not None else None, **values
        )


# --- keeping an upload between preview and confirmation ---------------------------


def encode_upload(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_upload(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
