"""Injected failures: rules that make matching API requests fail, for testing a client's retries."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from statusync.sandbox.payloads import ErrorCode, RequestRejected, rejection


class FaultRule(BaseModel):
    """Fail API requests that match `method` (and `integration_id`, `path` when given).

    Either answer with `status` (and an optional `code`/`title`/`detail` for the JSON:API body), or
    `drop` the connection without any response. `times` is how many matching requests the rule hits
    before it expires; None hits forever. Rules apply before authentication and rate limits, as
    a failing gateway in front of the API would, and every hit is in the request log.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    method: Annotated[str, Field(min_length=1)]
    integration_id: int | None = None
    # The endpoint as the spec names it, e.g. "/shop-order-statuses/mapping"; None matches any.
    path: str | None = None
    status: Annotated[int, Field(ge=400, le=599)] | None = None
    code: ErrorCode = "invalid"
    title: str | None = None
    detail: str = "Failure injected by the statusync sandbox"
    drop: bool = False
    times: Annotated[int, Field(ge=1)] | None = None

    @field_validator("method")
    @classmethod
    def _upper(cls, method: str) -> str:
        return method.upper()

    @field_validator("path")
    @classmethod
    def _normalise(cls, path: str | None) -> str | None:
        return None if path is None else "/" + path.strip("/")

    @model_validator(mode="after")
    def _status_or_drop(self) -> Self:
        if (self.status is None) == (not self.drop):
            raise ValueError("a fault rule needs exactly one of 'status' or 'drop': true")
        return self

    def matches(self, method: str, path: str, integration_id: int | None) -> bool:
        return (
            self.method == method
            and (self.path is None or self.path == path)
            and (self.integration_id is None or self.integration_id == integration_id)
        )

    def error(self) -> RequestRejected:
        """The refusal to send; only for a `status` rule."""
        assert self.status is not None
        return rejection(self.status, self.code, self.detail, self.title)


class FaultList:
    """Active rules with their remaining hits; not locked itself (the store's lock guards it)."""

    def __init__(self) -> None:
        self._rules: list[tuple[FaultRule, int | None]] = []

    def add(self, rule: FaultRule) -> None:
        self._rules.append((rule, rule.times))

    def clear(self) -> None:
        self._rules.clear()

    def active(self) -> list[tuple[FaultRule, int | None]]:
        return list(self._rules)

    def take(self, method: str, path: str, integration_id: int | None) -> FaultRule | None:
        """The first rule matching the request, counting the hit; None when no rule matches."""
        for i, (rule, left) in enumerate(self._rules):
            if rule.matches(method, path, integration_id):
                if left is None:
                    return rule
                if left > 1:
                    self._rules[i] = (rule, left - 1)
                else:
                    del self._rules[i]
                return rule
        return None
