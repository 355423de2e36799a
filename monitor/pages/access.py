"""Who may see the pages, and what: the API's rule, read per request.

Where API keys are required (settings.API_KEYS_REQUIRED), pages need a Django
login (django.contrib.auth): staff users (`createsuperuser`) are the platform
and see every store and report; a user of `create_organization_user` sees its
organization's only (monitor.scope); any other account is refused. In the
open embedded set-up of `make run` they are open to anyone, as the platform.

`page_access` is the one place a page request becomes a Scope: every view
gets it as its `scope` argument and hands it to the services.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle

from monitor.models import OrganizationMember
from monitor.scope import PLATFORM, Scope

View = Callable[..., HttpResponseBase]


def page_access(view: View) -> View:
    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if settings.API_KEYS_REQUIRED and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = page_scope(request)
        if scope is None:
            errors = [
                "your account belongs to no organization and is not staff: ask an "
                "administrator to make you a user of your organization"
            ]
            context = {"errors": errors, "status": 403}
            return render(request, "monitor/error.html", context, status=403)
        return view(request, *args, scope=scope, **kwargs)

    return checked


def client_address(request: HttpRequest) -> str:
    """The client's address, as the API's throttles read it: behind
    API_NUM_PROXIES proxies, the one the nearest of them saw (X-Forwarded-For),
    else the connection's. Failed log-ins are counted per address with it
    (django-axes' AXES_CLIENT_IP_CALLABLE): behind a proxy, the connection's
    address is the proxy's, the same for every client."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # reads META only


def page_scope(request: HttpRequest) -> Scope | None:
    """The viewer's reach: the platform (staff; anyone while keys are off), its
    organization, or None for a login that has neither."""
    user = request.user
    if not settings.API_KEYS_REQUIRED or user.is_staff or user.is_superuser:
        return PLATFORM
    if user.pk is None:  # anonymous: only where keys are off, the platform already
        return None
    members = OrganizationMember.objects.filter(user__pk=user.pk)
    member = members.select_related("organization").first()
    return None if member is None else Scope(member.organization)
