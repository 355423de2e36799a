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

View = Callable[..., HttpResponseBase]


def page_access(view: View) -> View:
    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if settings.API_KEYS_REQUIRED and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return checked
