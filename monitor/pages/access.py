"""Who may see the pages: the API's rule, read per request.

Where API keys are required (settings.API_KEYS_REQUIRED), pages need a Django
login (django.contrib.auth; superusers come from `createsuperuser`). In the
open embedded set-up of `make run` they are open to anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from rest_framework.throttling import BaseThrottle

View = Callable[..., HttpResponseBase]


def page_access(view: View) -> View:
    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if settings.API_KEYS_REQUIRED and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return checked


def client_address(request: HttpRequest) -> str:
    """The client's address, as the API's throttles read it: behind
    API_NUM_PROXIES proxies, the one the nearest of them saw (X-Forwarded-For),
    else the connection's. Failed log-ins are counted per address with it
    (django-axes' AXES_CLIENT_IP_CALLABLE): behind a proxy, the connection's
    address is the proxy's, the same for every client."""
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # reads META only
