"""API keys: made once, stored only as a keyed hash, checked in constant time.

A key is `smk_` and 43 URL-safe characters (256 random bits). The database
keeps its first characters in plain (the lookup prefix: finding the row must
not mean hashing against every key) and HMAC-SHA256 of the whole key, keyed
with SECRET_KEY, so a copy of the database alone gives no usable key. The
key itself is shown once, when it is made. Changing SECRET_KEY invalidates
every key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitor.models import ApiKey, Organization

KEY_MARK = "smk_"
LOOKUP_PREFIX_LENGTH = len(KEY_MARK) + 8
_KEY_LENGTH = len(KEY_MARK) + 43  # token_urlsafe(32)
# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

logger = logging.getLogger(__name__)


class ApiKeyError(ValueError):
    """A key cannot be made or revoked as asked (the message says why)."""


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    key: str  # the only copy of the key there will ever be


def api_key_create(*, name: str, scope: str, organization: str | None = None) -> NewApiKey:
    """Make a key named `name` with scope read or write: of the organization whose
    slug is `organization`, or a platform key (every store) when None."""
    name = name.strip()
    if not name:
        raise ApiKeyError("a key needs a name")
    if scope not in ApiKey.Scope.values:
        raise ApiKeyError(f"scope {scope!r} is not one of {', '.join(ApiKey.Scope.values)}")
    owner = None
    if organization is not None:
        owner = Organization.objects.filter(slug=organization).first()
        if owner is None:
            raise ApiKeyError(f"no organization {organization!r} (create_organization makes one)")
    key = KEY_MARK + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                name=name,
                scope=scope,
                prefix=key[:LOOKUP_PREFIX_LENGTH],
                digest=_digest(key),
                organization=owner,
            )
    except IntegrityError:
        raise ApiKeyError(f"a key named {name!r} exists already (names are never reused)") from None
    return NewApiKey(api_key, key)


def api_key_revoke(*, name: str) -> ApiKey:
    """Revoke the key named `name`: from now on it is refused like an unknown key."""
    revoked = ApiKey.objects.filter(name=name, revoked_at=None).update(revoked_at=timezone.now())
    if not revoked:
        if ApiKey.objects.filter(name=name).exists():
            raise ApiKeyError(f"the key {name!r} is revoked already")
        raise ApiKeyError(f"no key named {name!r}")
    return ApiKey.objects.get(name=name)


def api_keys_list() -> list[ApiKey]:
    return list(ApiKey.objects.select_related("organization").order_by("name"))


def api_key_check(key: str) -> ApiKey | None:
    """The live key that `key` is, or None (unknown, malformed or revoked)."""
    if len(key) != _KEY_LENGTH or not key.startswith(KEY_MARK) or not key.isascii():
        return None
    digest = _digest(key)
    candidates = ApiKey.objects.filter(
        prefix=key[:LOOKUP_PREFIX_LENGTH], revoked_at=None
    ).select_related("organization")
    for candidate in candidates:
        if hmac.compare_digest(candidate.digest, digest):
            _note_use(candidate)
            return candidate
    if candidates:
        # 48 random bits matched a stored key's prefix, but not its hash: almost
        # surely the key itself under another DJANGO_SECRET_KEY. The client only
        # hears 401; the operator needs to know why every key stopped working.
        logger.warning(
            "API key %r matches the stored key %r but not its hash: DJANGO_SECRET_KEY "
            "has changed since that key was made (every key made before the change "
            "answers 401; restore the old value, or make the keys again)",
            key[:LOOKUP_PREFIX_LENGTH] + "…",
            candidates[0].name,
        )
    return None


def _digest(key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()


def _note_use(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
