"""One module per command, each with a `run(ws, console, ...)` that returns the exit code.

statusync.cli imports a command's module only when that command runs, so `plan` never loads
the API client. Commands may import every other package; nothing imports a command, except
reconcile, which is drift followed by the write path that apply and import share
(write_run.py; pushing.py for --push, which merges the state with merge_state.py's own
function). merge_state.py is git's merge driver: it works on the files git names, so it takes
no `ws`. github.py holds the two `statusync github ...` commands (the plan comment, the
drift issue): they work on GitHub, not on the workspace, so they take no `ws`.
"""
