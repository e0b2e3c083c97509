"""How fast `statusync plan` is at scale: prints figures, asserts nothing.

    python3 benchmarks/plan_speed.py [COUNT]

Writes COUNT mapping files (default 10,000) to a temporary directory and times three runs of
`statusync plan` as a user would run them (a fresh process each): with no state (every file is
parsed), with a state that matches every file (the common pull-request case: files unchanged
since the last apply are only hashed), and with one file changed. Also prints peak memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from statusync.core.model import LoadedSpec
from statusync.core.state import Entry, State
from statusync.files.mappings import load_mappings
from statusync.files.state_file import save_state
from statusync.runner.recorder import now_iso


def write_files(root: Path, count: int) -> None:
    for i in range(1, count + 1):
        folder = root / "mappings" / f"region-{i % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"shop-{i}.yaml").write_text(
            f"# shop {i}\nintegration_id: {i}\nname: Shop {i}\nmapping:\n"
            f'  READY_TO_SEND: "{i % 7}"\n  IN_TRANSIT: "{i % 11}"\n  DELIVERED: "12"\n  CANCEL: null\n'
        )


def matching_state(root: Path) -> None:
    specs: list[LoadedSpec] = load_mappings(root / "mappings", root, ["default"])
    entries = {
        s.spec.integration_id: Entry(
            s.file, s.sha256, s.spec.account, s.spec.name, s.spec.mapping.as_dict(), now_iso()
        )
        for s in specs
    }
    save_state(root / ".statusync" / "state.json", State(entries=entries))


def timed_plan(root: Path) -> tuple[float, dict[str, int], int]:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, sys; from statusync.cli import main; code = main(sys.argv[1:]);"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)",
            "plan",
            "--format",
            "json",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    return elapsed, json.loads(proc.stdout)["summary"], int(proc.stderr.strip().splitlines()[-1])


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_files(root, count)
        rows = []
        rows.append(("no state (all parsed)", *timed_plan(root)))
        matching_state(root)
        rows.append(("state matches (hash only)", *timed_plan(root)))
        changed = root / "mappings" / "region-01" / "shop-1.yaml"
        changed.write_text(changed.read_text().replace('DELIVERED: "12"', 'DELIVERED: "13"'))
        rows.append(("one file changed", *timed_plan(root)))
    print(f"statusync plan over {count:,} mapping files (fresh process each, imports included)")
    for label, seconds, summary, rss_kib in rows:
        changes = {k: v for k, v in summary.items() if v}
        print(f"  {label:<28} {seconds:6.2f} s   peak RSS {rss_kib / 1024:6.1f} MiB   {changes}")
    print(f"(benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB)")


if __name__ == "__main__":
    main()
