"""How fast statusync starts: `statusync --version` and `statusync --help` against `python -c pass`.

    python3 benchmarks/startup_speed.py

Every command pays start-up, and a shell completion or a pre-commit hook runs statusync often.
Each time is the best of several fresh processes (the machine may be shared). Target: both at
most 5x a bare interpreter, which start-up meets by importing only the command line (click and
statusync's options); a command imports what it needs when it runs. Prints the figures; exits 1
when the target is missed. Not a test.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from harness import best_of, compile_statusync

RUNS = 15
MAX_RATIO = 5.0


def main() -> int:
    compile_statusync()  # as installed: no module compiled from source at each start
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        bare = best_of([sys.executable, "-c", "pass"], cwd, RUNS)
        print(f"python -c pass          {bare * 1000:6.1f} ms (best of {RUNS})")
        missed = []
        for args in (["--version"], ["--help"]):
            seconds = best_of([sys.executable, "-m", "statusync", *args], cwd, RUNS)
            ratio = seconds / bare
            print(f"statusync {' '.join(args):<13} {seconds * 1000:6.1f} ms  {ratio:4.1f}x")
            if ratio > MAX_RATIO:
                missed.append(" ".join(args))
    print(f"target: at most {MAX_RATIO:.0f}x python -c pass")
    if missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
