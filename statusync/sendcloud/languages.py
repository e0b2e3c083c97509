"""The languages Sendcloud names shop statuses in: the `language` parameter of
`GET /shop-order-statuses` (integrations-openapi.yaml). statusync.yaml's `language:` takes one."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["en-us", "en-gb", "fr-fr", "de-de", "nl-nl", "es-es", "it-it"]
LANGUAGES: tuple[str, ...] = get_args(Language)
# What Sendcloud answers in when no language is asked for.
DEFAULT_LANGUAGE: Language = "en-gb"
