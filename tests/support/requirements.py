"""The requirements of a pip requirements file such as requirements.lock."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement


def lock_requirements(lock: Path) -> list[Requirement]:
    """Each requirement of the file, its continuation lines joined, hashes and comments left out."""
    text = lock.read_text().replace("\\\n", " ")
    lines = (re.sub(r"--hash=\S+", "", line.split("#", 1)[0]).strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line]
