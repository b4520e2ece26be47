"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json).

People authenticate with ``Authorization: Bearer <token>`` from
``POST /api/v1/auth/token``; stations with the token shown once when their
workstation was registered. Every refusal is ``{"detail": "…"}`` (invalid input
adds ``errors``, one per field); the document lists every status code each
operation can give (``jilu.org.api_doc``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from jilu import outage
from jilu.access.api import router as access_router
from jilu.casework.api import router as casework_router
from jilu.devices.api import router as devices_router
from jilu.dutylog.api import router as dutylog_router
from jilu.evidence.api import router as evidence_router
from jilu.evidence.api_fixity import router as fixity_router
from jilu.ingest.api import router as ingest_router
from jilu.ingest.api_quarantine import router as quarantine_router
from jilu.org import api_doc
from jilu.org.api import router as org_router
from jilu.org.api_auth import BearerAuth
from jilu.org.api_types import invalid_request_text
from jilu.oversight.api import router as oversight_router
from jilu.retention.api import router as retention_router
from jilu.transfer.api import router as transfer_router
from jilu.web.api_audit import router as audit_router


class JiluAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return api_doc.complete(super().get_openapi_schema(**kwargs))


api = JiluAPI(
    title="Jilu API",
    version="1",
    description="记录：执法记录仪声像资料管理平台 API",
    auth=BearerAuth(),
    urls_namespace="api",
)
api.add_router("/", org_router)
api.add_router("/", devices_router)
api.add_router("/", ingest_router)
api.add_router("/", quarantine_router)
api.add_router("/", evidence_router)
api.add_router("/", fixity_router)
api.add_router("/", dutylog_router)
api.add_router("/", casework_router)
api.add_router("/", transfer_router)
api.add_router("/", access_router)
api.add_router("/", retention_router)
api.add_router("/", oversight_router)
api.add_router("/", audit_router)


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    """422 naming every invalid field (its place and what it should be)."""
    return api.create_response(
        request, {"detail": invalid_request_text(exc.errors), "errors": exc.errors}, status=422
    )


@api.exception_handler(HttpError)
def refused(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """A handler's refusal, ``{"detail": ...}``; django-ninja's own words for a body
    that is not JSON are put in the interface's language."""
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):
        detail = _("请求体无法解析：应为 UTF-8 编码的 JSON")
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": _("缺少或无效的令牌：请在 Authorization 头中提供 Bearer 令牌")},
        status=401,
    )


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """An action's own refusal (it re-checks who may act): 403 with its reason."""
    return api.create_response(
        request, {"detail": str(exc) or _("你没有权限执行此操作")}, status=403
    )


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("请求体过大，服务器拒绝接收；请缩小请求内容")}, status=413
    )


def _unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Store, database or queue unreachable: 503 JSON with Retry-After (jilu/outage.py)."""
    answer = outage.handle(request, exc)
    if answer is None:
        raise exc
    return answer


for _kind in outage.HANDLED:
    api.add_exception_handler(_kind, _unavailable)
