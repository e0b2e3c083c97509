"""The environment variables statusync reads: one that is set but empty is a mistake.

An empty CI secret, `export STATUSYNC_API_URL=` left in a shell, a variable a workflow maps from
a secret that does not exist: each reaches the process as an empty string. Read as "not set", it
would silently mean the default (production's URL, another account's keys); so it is an error
that names the variable. Imports nothing but the exception tree.

Left out on purpose: NO_COLOR and CI, whose conventions (no-color.org, the CI services) say an
empty value means unset.
"""

from __future__ import annotations

from collections.abc import Mapping

from statusync.errors import StatusyncError


def env_value(env: Mapping[str, str], name: str, fix: str) -> str | None:
    """`env[name]`, None when it is not set; raises when it is set but blank (white space only).

    `fix` ends the message: what to set the variable to, e.g. "set it to the API's URL"."""
    value = env.get(name)
    if value is not None and not value.strip():
        raise StatusyncError(f"the environment variable {name} is set but empty; {fix}, or unset it")
    return value
