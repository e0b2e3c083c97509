"""One module per command, each with a `run(...)` that returns the exit code, and nothing else.

statusync.cli imports a command's module only when that command runs, so `plan` never loads
the API client; nothing else imports a command (tests/unit/test_layout.py checks both). What
several commands share (the write session, --push, --only, reading drift) is statusync.session's.
merge_state.py is git's merge driver: it works on the files git names, so it takes no `ws`.
github.py holds the two `statusync github ...` commands (the plan comment, the drift issue):
they work on GitHub, not on the workspace, so they take no `ws`.
"""
