"""Saved plans (`plan --out`): the plan plus fingerprints of everything it was made from.

`apply PLANFILE` applies exactly the saved changes, and only while the state, the settings and
every mapping file are still what the plan saw; otherwise the plan is stale and is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from statusync.core.model import CATEGORIES
from statusync.core.plan import Action, Change, Plan
from statusync.errors import StatusyncError
from statusync.files.atomic import atomic_write

PLANFILE_KIND = "statusync-plan"
PLANFILE_VERSION = 1


@dataclass(frozen=True)
class Fingerprints:
    state: str  # lineage:serial
    settings: str  # sha256 of statusync.yaml ("" when absent)
    files: dict[str, str]  # mapping file -> sha256
    # The mark of the journal an interrupted run left beside the state ("" when none): every
    # command reads the state with it folded in, without the state's serial changing.
    journal: str = ""


class _ChangeModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    integration_id: int
    action: Action
    file: str
    account: str
    name: str | None
    sha256: str
    before: dict[str, str | None] | None
    after: dict[str, str | None] | None
    sent: dict[str, str | None] | None = None  # an uncertain change's write of unknown outcome


class _PlanFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    version: int
    fingerprints: dict[str, Any]
    managed: int
    unchanged: int
    changes: list[_ChangeModel]
    # The --only patterns of a partial plan; absent from plans of the whole repository.
    only: list[str] = []


def write_planfile(path: Path, plan: Plan, prints: Fingerprints) -> None:
    data = {
        "kind": PLANFILE_KIND,
        "version": PLANFILE_VERSION,
        "fingerprints": {
            "state": prints.state,
            "settings": prints.settings,
            "files": prints.files,
            **({"journal": prints.journal} if prints.journal else {}),
        },
        "managed": plan.managed,
        "unchanged": plan.unchanged,
        **({"only": list(plan.only)} if plan.only else {}),
        "changes": [
            {**c.data(), "account": c.account, "name": c.name, "sha256": c.sha256} for c in plan.changes
        ],
    }
    atomic_write(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def read_planfile(path: Path) -> tuple[Plan, Fingerprints]:
    try:
        model = _PlanFileModel.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise StatusyncError(f"{path}: cannot read the plan file: {exc.strerror}") from None
    except ValidationError:
        raise StatusyncError(
            f"{path}: not a statusync plan file (make one with 'statusync plan --out FILE')"
        ) from None
    if model.kind != PLANFILE_KIND or model.version != PLANFILE_VERSION:
        raise StatusyncError(
            f"{path}: plan file version {model.version} is not supported; make a new plan with this statusync"
        )
    fp = model.fingerprints
    try:
        prints = Fingerprints(
            str(fp["state"]),
            str(fp["settings"]),
            {str(k): str(v) for k, v in dict(fp["files"]).items()},
            str(fp.get("journal", "")),
        )
    except (KeyError, TypeError, ValueError):
        raise StatusyncError(f"{path}: the plan file's fingerprints are damaged; make a new plan") from None
    changes = tuple(
        Change(
            c.integration_id,
            c.action,
            c.file,
            c.account,
            _ordered(c.before),
            _ordered(c.after),
            c.name,
            c.sha256,
            _ordered(c.sent),
        )
        for c in model.changes
    )
    return Plan(changes, model.unchanged, model.managed, tuple(model.only)), prints


def _ordered(mapping: dict[str, str | None] | None) -> dict[str, str | None] | None:
    return None if mapping is None else {c: mapping.get(c) for c in CATEGORIES}


def interrupted_since(saved: Fingerprints, current: Fingerprints) -> bool:
    """Whether a run that did not finish left a journal since the plan was made (or added to
    the one there was): its writes are folded into the state the plan is checked against."""
    return bool(current.journal) and current.journal != saved.journal


def stale_reasons(saved: Fingerprints, current: Fingerprints) -> list[str]:
    """What changed since the plan was made; empty when it can still be applied."""
    reasons = []
    saved_lineage, current_lineage = saved.state.split(":")[0], current.state.split(":")[0]
    if saved_lineage and current_lineage and saved_lineage != current_lineage:
        reasons.append("it was made from another state file (another project or a reset state)")
    elif saved.state != current.state:
        reasons.append("the state was written since (another apply ran)")
    if saved.settings != current.settings:
        reasons.append("statusync.yaml changed")
    for file in sorted(saved.files.keys() | current.files.keys()):
        old, new = saved.files.get(file), current.files.get(file)
        if old != new:
            what = "was added" if old is None else "was removed" if new is None else "changed"
            reasons.append(f"{file} {what}")
    return reasons
