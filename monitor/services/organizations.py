"""Organizations: made, listed and renamed; who owns which store; their users.

Ownership changes are the platform's alone (Scope.require_platform). They
change which stores an organization's reports hold, so each bumps the data
version: no report made before is reused after it (services.data_version).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from monitor.ingest import rules
from monitor.ingest.errors import RowRejectedError
from monitor.ingest.loaders import ownership_source
from monitor.ingest.reader import FileProgress
from monitor.models import Organization, OrganizationMember, Store
from monitor.scope import Scope
from monitor.services.data_version import data_changed
from monitor.services.imports import Body, ImportResult, import_rows

SLUG_MAX_LENGTH = Organization._meta.get_field("slug").max_length or 50
OWNERSHIP_CHANGES = "changing which organization a store belongs to"


class OrganizationError(ValueError):
    """The organization cannot be made, found or changed as asked (the message says why)."""


class OrganizationNotFoundError(OrganizationError):
    """No organization has the slug given."""


@dataclass(frozen=True)
class OrganizationSummary:
    organization: Organization
    stores: int
    api_keys: int  # live ones
    users: int


def organization_create(*, slug: str, name: str = "") -> Organization:
    """A new organization; its name defaults to its slug."""
    slug = slug.strip()
    try:
        validate_slug(slug)
    except ValidationError:
        raise OrganizationError(
            f"{slug!r} is not a slug: letters, digits, '-' and '_' only"
        ) from None
    if len(slug) > SLUG_MAX_LENGTH:
        raise OrganizationError(f"a slug has at most {SLUG_MAX_LENGTH} characters")
    try:
        with transaction.atomic():
            return Organization.objects.create(slug=slug, name=name.strip() or slug)
    except IntegrityError:
        raise OrganizationError(f"an organization {slug!r} exists already") from None


def organization_get(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise OrganizationNotFoundError(f"no organization {slug!r} (create_organization makes one)")
    return organization


def organization_rename(*, slug: str, name: str) -> Organization:
    organization = organization_get(slug)
    if not name.strip():
        raise OrganizationError("an organization needs a name")
    organization.name = name.strip()
    organization.save(update_fields=["name"])
    return organization


def organizations_list() -> list[OrganizationSummary]:
    """Every organization with its counts of stores, live keys and users, by slug."""
    counted = Organization.objects.annotate(
        store_count=Count("stores", distinct=True),
        key_count=Count("api_keys", filter=Q(api_keys__revoked_at=None), distinct=True),
        user_count=Count("members", distinct=True),
    ).order_by("slug")
    return [
        OrganizationSummary(
            organization, organization.store_count, organization.key_count, organization.user_count
        )
        for organization in counted
    ]


def store_organization_set(store_id: str, slug: str | None, *, scope: Scope) -> Store:
    """Give the store `store_id` to the organization `slug`, or to none (None: the
    platform's alone). An unknown store is created, as business hours do."""
    scope.require_platform(OWNERSHIP_CHANGES)
    try:
        store_id = rules.store_id(store_id.strip())
    except RowRejectedError as error:
        raise OrganizationError(f"store_id {error}") from None
    organization = None if slug is None else organization_get(slug)
    with transaction.atomic():
        store, _ = Store.objects.update_or_create(
            store_id=store_id, defaults={"organization": organization}
        )
        data_changed()
    return store


def store_organizations_import(
    path: Path | Body, *, scope: Scope, on_progress: FileProgress | None = None
) -> ImportResult:
    """Load store ownership rows (store_id, organization slug): each store named in
    a valid row belongs to its last valid row's organization from now on."""
    scope.require_platform(OWNERSHIP_CHANGES)
    keys = dict(Organization.objects.values_list("slug", "pk"))
    return import_rows(ownership_source(keys), path, on_progress)


def organization_user_create(*, username: str, slug: str, password: str) -> AbstractBaseUser:
    """A Django user (not staff) of the organization `slug`, with a password that
    passes the project's validators."""
    organization = organization_get(slug)
    user_model = get_user_model()
    if user_model._default_manager.filter(username=username).exists():
        raise OrganizationError(f"a user {username!r} exists already")
    candidate = user_model(username=username)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise OrganizationError(" ".join(error.messages)) from None
    with transaction.atomic():
        user = user_model._default_manager.create_user(username=username, password=password)
        OrganizationMember.objects.create(user=user, organization=organization)
    return user
