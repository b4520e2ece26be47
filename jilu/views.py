"""The web shell: sign-in with lockout and per-address throttling, sign-out,
password change, home per role."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jilu.org import actions, throttle
from jilu.org.models import Person
from jilu.web.home import home_context, primary_role


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


class SignInForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("登录名"), max_length=50)
    password = forms.CharField(label=gettext_lazy("密码"), widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest | None = None, *args, **kwargs) -> None:
        self.request = request
        self.user_cache: Person | None = None
        self.throttled: throttle.Throttled | None = None
        super().__init__(*args, **kwargs)

    def _throttled(self, stopped: throttle.Throttled) -> forms.ValidationError:
        """Too many failed sign-ins from this address: say until when."""
        self.throttled = stopped
        return forms.ValidationError(
            _(
                "从你所在的网络地址登录失败的次数过多，已暂停登录，请在 %(time)s"
                "（北京时间，约 %(m)s 分钟后）再试。忘记密码请联系系统管理员重置。"
            )
            % {
                "time": timezone.localtime(stopped.until).strftime("%H:%M"),
                "m": max(1, -(-stopped.retry_after // 60)),
            },
            code="throttled",
        )

    def clean(self) -> dict:
        data = super().clean()
        username, password = data.get("username"), data.get("password")
        if not username or not password:
            return data
        ip = client_ip(self.request)
        stopped = throttle.check(ip)
        if stopped is not None:
            throttle.refused(ip, username=username, via="web")
            raise self._throttled(stopped)
        person = Person.objects.filter(username=username).first()
        if person is not None and actions.is_locked(person):
            actions.login_refused_locked(person=person, ip=ip)
            stopped = throttle.failed(ip, via="web")
            if stopped is not None:
                raise self._throttled(stopped)
            minutes = max(1, int((person.locked_until - timezone.now()).total_seconds() // 60) + 1)
            raise forms.ValidationError(
                _("连续登录失败次数过多，账号已锁定，请 %(m)s 分钟后再试或联系系统管理员。")
                % {"m": minutes},
                code="locked",
            )
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            person = actions.login_failed(username=username, ip=ip)
            stopped = throttle.failed(ip, via="web")
            if stopped is not None:
                raise self._throttled(stopped)
            if person is not None and actions.is_locked(person):
                raise forms.ValidationError(
                    _("连续登录失败次数过多，账号已锁定，请稍后再试或联系系统管理员。"),
                    code="locked",
                )
            raise forms.ValidationError(_("登录名或密码不正确。"), code="invalid_login")
        self.user_cache = user
        return data

    def get_user(self) -> Person:
        assert self.user_cache is not None
        return self.user_cache


class SignInView(LoginView):
    form_class = SignInForm
    template_name = "auth/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs) -> dict:
        ctx = super().get_context_data(**kwargs)
        ctx["idle_minutes"] = settings.SESSION_COOKIE_AGE // 60
        return ctx

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.throttled is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.retry_after)
        return response

    def form_valid(self, form: SignInForm) -> HttpResponse:
        person = form.get_user()
        login(self.request, person)
        actions.login_succeeded(person=person, ip=client_ip(self.request))
        return redirect(self.get_success_url())


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        actions.logged_out(person=request.user, ip=client_ip(request))
    logout(request)
    messages.info(request, _("已退出登录。"))
    return redirect("login")


class PasswordChange(PasswordChangeView):
    template_name = "auth/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        actions.set_password(
            actor=self.request.user,
            person=self.request.user,
            password=form.cleaned_data["new_password1"],
        )
        self.request.user.refresh_from_db()
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, _("密码已修改。"))
        return redirect(self.success_url)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = primary_role(request.user)
    return render(request, f"home/{role}.html", home_context(request.user, role))
