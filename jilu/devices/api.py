"""API: recorders and workstations; a station learns who it is."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from jilu.devices.models import Recorder

router = Router(tags=["devices"])


class StationOut(Schema):
    id: int
    name: str
    unit_code: str
    unit_name: str


class RecorderOut(Schema):
    serial: str
    vendor: str
    model: str
    unit_code: str
    status: str


@router.get("/station/me", response=StationOut)
def station_me(request: HttpRequest):
    station = getattr(request, "station", None)
    if station is None:
        raise HttpError(403, "此接口需要工作站令牌")
    return StationOut(
        id=station.pk, name=station.name, unit_code=station.unit.code, unit_name=station.unit.name
    )


@router.get("/recorders", response=list[RecorderOut])
def list_recorders(request: HttpRequest):
    if getattr(request, "station", None) is not None:
        raise HttpError(403, "此接口需要人员令牌")
    qs = Recorder.objects.restrict(request.user, "view").select_related("unit")
    return [
        RecorderOut(serial=r.serial, vendor=r.vendor, model=r.model, unit_code=r.unit.code,
                    status=r.status)
        for r in qs
    ]
