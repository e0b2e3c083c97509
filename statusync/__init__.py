"""statusync: GitOps for Sendcloud shop order status mappings."""

import os
import sys
import types

# pydantic loads, at its first model, every "pydantic" entry point of every installed
# distribution: code from outside statusync, in a process that may hold an account's keys, and
# a scan of all installed metadata on every start (a tenth of a short command's time). statusync
# uses no pydantic plugin, so none is loaded. Set before anything imports pydantic: every
# statusync module is imported after this package.
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
# ... and its plugin loader is one that finds none: pydantic's own imports importlib.metadata
# to read entry points, 20 to 40 ms of every command's start, to then read none of them.
_no_plugins = types.ModuleType("pydantic.plugin._loader", "pydantic's plugins: none (statusync)")
_no_plugins.get_plugins = lambda: ()  # type: ignore[attr-defined]
sys.modules.setdefault("pydantic.plugin._loader", _no_plugins)

# httpx imports its own command-line client whenever click, rich and pygments are installed:
# 50 ms of every run that talks to the API, for a client statusync never runs. A module that is
# None in sys.modules cannot be imported, and httpx then defines a stub in its place.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # typeshed lacks this use

__version__ = "0.1.0"
