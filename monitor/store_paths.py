"""A store id in a URL path: the `store_id` path converter of the pages and the API.

Django's own `path` converter (`.+`) matches no line break, so a path that
held one (stored before amendment 5 refused them) could not be reversed: the
page linking to it failed whole. This converter takes any non-empty text, so
every stored id has a link, and a request for an id that breaks the rules
reaches its view, which answers why (a PUT) or that no such store exists.
"""

from __future__ import annotations

from django.urls import register_converter


class StoreIdConverter:
    regex = r"[\s\S]+"  # any character, line breaks included; "/" too, as `path`

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value  # reverse() percent-encodes it


STORE_ID = "store_id"  # the converter's name in a path: <store_id:store_id>
register_converter(StoreIdConverter, STORE_ID)
