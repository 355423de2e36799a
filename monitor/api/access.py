"""Who may call the API: API keys (monitor.services.api_keys) and their scopes.

Settings make these the default of every DRF view: a new endpoint needs a read
key unless it says otherwise (`WriteScope` for the endpoints that send data,
`AllowAny` for the probes). With API_KEYS_REQUIRED off (`make run`) keys are
not looked at and every endpoint is open.

A key's organization is its reach (monitor.scope): `request_scope` is the one
place the API turns a request into a Scope, which every view hands to the
services.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from monitor.models import ApiKey
from monitor.scope import PLATFORM, Scope
from monitor.services.api_keys import api_key_check


def request_scope(request: Request) -> Scope:
    """The caller's reach: its key's organization, or the platform (a platform
    key; anyone while keys are off, as `make run` serves)."""
    if not settings.API_KEYS_REQUIRED:
        return PLATFORM
    if not isinstance(request.auth, ApiKey):
        raise NotAuthenticated("this endpoint needs an API key")
    return Scope(request.auth.organization)


def narrowed_scope(request: Request, organization: str | None) -> Scope:
    """The caller's scope, narrowed to the organization of the slug `organization`
    when given (a list's filter); 404 when the caller knows no such organization."""
    scope = request_scope(request)
    if organization is None:
        return scope
    narrowed = scope.narrowed(organization)
    if narrowed is None:
        raise NotFound(f"no organization {organization!r}")
    return narrowed


def presented_key(request: Request) -> str | None:
    """The key of `Authorization: Bearer <key>` or `X-Api-Key: <key>`, if either is sent."""
    authorization: str = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    header: str = request.META.get("HTTP_X_API_KEY", "")
    return header.strip() or None


class ApiKeyAuthentication(BaseAuthentication):
    """request.auth is the caller's ApiKey; an unknown or revoked key is refused (401)."""

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        if not settings.API_KEYS_REQUIRED:
            return None
        key = presented_key(request)
        if key is None:
            return None  # the permission then answers 401: no key at all
        api_key = api_key_check(key)
        if api_key is None:
            raise AuthenticationFailed("unknown or revoked API key")
        return None, api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) with WWW-Authenticate when no key was sent.
        return 'Bearer realm="api"'


class ReadScope(BasePermission):
    """Any live key: every GET, and trigger_report (the default of every view)."""

    message = "this endpoint needs an API key with scope read or write"
    scopes = frozenset(ApiKey.Scope.values)

    def has_permission(self, request: Request, view: Any) -> bool:
        if not settings.API_KEYS_REQUIRED:
            return True
        return isinstance(request.auth, ApiKey) and request.auth.scope in self.scopes


class WriteScope(ReadScope):
    """A write key: the endpoints that send data."""

    message = "this endpoint needs an API key with scope write"
    scopes = frozenset({ApiKey.Scope.WRITE.value})


class ReadOrWriteScope(BasePermission):
    """ReadScope for a GET (HEAD, OPTIONS), WriteScope for a method that sends data: a
    path that both lists and takes rows (/exclusions)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = ReadScope() if request.method in SAFE_METHODS else WriteScope()
        self.message = scope.message
        return scope.has_permission(request, view)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The schema's security: a key as a bearer token or in X-Api-Key (when keys are required)."""

    target_class = ApiKeyAuthentication
    name = ["bearerKey", "headerKey"]

    def get_security_requirement(  # type: ignore[override]
        self, auto_schema: Any
    ) -> list[dict[str, list[Any]]] | None:
        # None: no security requirement at all while keys are off.
        if not settings.API_KEYS_REQUIRED:
            return None
        return [{"bearerKey": []}, {"headerKey": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
            {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        ]
