"""statusync: GitOps for Sendcloud shop order status mappings."""

import os

# pydantic loads, at its first model, every "pydantic" entry point of every installed
# distribution: code from outside statusync, in a process that may hold an account's keys, and
# a scan of all installed metadata on every start (a tenth of a short command's time). statusync
# uses no pydantic plugin, so none is loaded. Set before anything imports pydantic: every
# statusync module is imported after this package.
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"

__version__ = "0.1.0"
