"""One module per command, each with a `run(ws, console, ...)` that returns the exit code.

statusync.cli imports a command's module only when that command runs, so `plan` never loads
the API client. Commands may import every other package; nothing imports a command, except
reconcile, which is drift followed by the write path that apply and import share
(write_run.py).
"""
