"""The statusync process: `python -m statusync`, and the `statusync` script."""

import os
import sys
from typing import NoReturn

from statusync.files.collector import hold_off_while_starting


def main() -> NoReturn:
    hold_off_while_starting()  # before the imports below, the bulk of them
    try:
        from statusync.cli import run

        run()  # installs statusync's own handling of Ctrl-C first, and never returns
    except KeyboardInterrupt:
        # Ctrl-C while the process was still starting: nothing was done yet, and a traceback
        # of whatever module was being imported would say nothing.
        sys.stderr.write("Aborted.\n")
        os._exit(1)


if __name__ == "__main__":
    main()
