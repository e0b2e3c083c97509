"""What the commands share between parsing their options and reporting their result: the
machinery of a run, apart from any one command.

    write.py  the write session (apply, reconcile, import): the state lock, the state read,
              one API client per account, the confirmation, the sends, the state written at
              the end however the run ends, and the report of what failed
    push.py   --push around a write session: sync the checkout to its upstream first, commit
              and push what the run wrote at the end, merging the state when someone pushed first
    only.py   --only: narrow the files and the state to a subset, or say why not
    drift.py  reading every file's live mapping with progress (drift and reconcile)

May import: statusync.core, files, runner, repo, render, the console and the workspace; never
statusync.commands or the CLI, which stand above it (tests/unit/test_layout.py checks this).
Nothing is re-exported here: `plan` imports only.py and must not pay for git or the client.
"""
