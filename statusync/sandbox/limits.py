"""The sandbox's rate limits, per credential (a key pair, or an OAuth2 client and the tokens it was
issued), as Sendcloud's limits are per account: each credential has its own POST and GET buckets,
so that several accounts can each be run at their full limit against one sandbox."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from statusync.sandbox.payloads import rejection
from statusync.sendcloud.ratelimit import Clock, TokenBucket


@dataclass(frozen=True)
class CredentialLimit:
    """The limits of one credential, by its public key (or OAuth2 client id); None: the server's
    own (SandboxOptions.post_per_minute / get_per_minute)."""

    public_key: str
    post_per_minute: int | None = None
    get_per_minute: int | None = None


class RateLimits:
    """A POST and a GET bucket per credential, made when it first sends a request."""

    def __init__(
        self,
        post_per_minute: int | None,
        get_per_minute: int | None,
        per_credential: Iterable[CredentialLimit],
        clock: Clock,
    ) -> None:
        self._default = (post_per_minute, get_per_minute)
        self._limits = {c.public_key: c for c in per_credential}
        self._clock = clock
        self._buckets: dict[str, tuple[TokenBucket | None, TokenBucket | None]] = {}
        self._lock = threading.Lock()

    def throttle(self, credential: str, method: str) -> None:
        """Take a token of `credential`'s bucket for `method`, or refuse with a 429 as Sendcloud
        does (Retry-After in whole seconds)."""
        post, get = self._buckets_of(credential)
        bucket = get if method in ("GET", "HEAD") else post
        wait = bucket.try_acquire() if bucket is not None else 0.0
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise rejection(
                429,
                "invalid",
                f"Request was throttled. Expected available in {seconds} seconds.",
                "Too Many Requests",
                headers=(("Retry-After", str(seconds)),),
            )

    def _buckets_of(self, credential: str) -> tuple[TokenBucket | None, TokenBucket | None]:
        with self._lock:
            buckets = self._buckets.get(credential)
            if buckets is None:
                post, get = self._default
                own = self._limits.get(credential)
                if own is not None:
                    post = own.post_per_minute if own.post_per_minute is not None else post
                    get = own.get_per_minute if own.get_per_minute is not None else get
                buckets = (self._bucket(post), self._bucket(get))
                self._buckets[credential] = buckets
            return buckets

    def _bucket(self, per_minute: int | None) -> TokenBucket | None:
        return None if per_minute is None else TokenBucket(per_minute, clock=self._clock)
