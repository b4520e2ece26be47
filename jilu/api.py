"""The JSON API under /api/v1/ (OpenAPI at /api/v1/openapi.json).

People authenticate with ``Authorization: Bearer <token>`` from
``POST /api/v1/auth/token``; stations with the token shown once when their
workstation was registered.
"""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from jilu.casework.api import router as casework_router
from jilu.devices.api import router as devices_router
from jilu.evidence.api import router as evidence_router
from jilu.ingest.api import router as ingest_router
from jilu.org.api import router as org_router
from jilu.org.api_auth import BearerAuth
from jilu.oversight.api import router as oversight_router
from jilu.retention.api import router as retention_router
from jilu.transfer.api import router as transfer_router
from jilu.web.api_audit import router as audit_router

api = NinjaAPI(
    title="Jilu API",
    version="1",
    description="记录：执法记录仪声像资料管理平台 API",
    auth=BearerAuth(),
    urls_namespace="api",
)
api.add_router("/", org_router)
api.add_router("/", devices_router)
api.add_router("/", ingest_router)
api.add_router("/", evidence_router)
api.add_router("/", casework_router)
api.add_router("/", transfer_router)
api.add_router("/", retention_router)
api.add_router("/", oversight_router)
api.add_router("/", audit_router)


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    """Every API error is ``{"detail": "<Chinese text>"}``, field problems listed."""
    problems = []
    for error in exc.errors:
        where = ".".join(str(p) for p in error.get("loc", [])[1:])
        problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return api.create_response(
        request,
        {"detail": "请求内容不正确：" + "；".join(problems), "errors": exc.errors},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "缺少或无效的令牌：请在 Authorization 头中提供 Bearer 令牌"}, status=401
    )
