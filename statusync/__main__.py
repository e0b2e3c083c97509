"""The statusync process: `python -m statusync`, and the `statusync` script."""

from typing import NoReturn

from statusync.files.collector import hold_off_while_starting


def main() -> NoReturn:
    hold_off_while_starting()  # before the imports below, the bulk of them
    from statusync.cli import run

    run()


if __name__ == "__main__":
    main()
