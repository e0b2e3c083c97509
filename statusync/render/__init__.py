"""Renderers for plans and drift reports: text for people, json for scripts, markdown for GitHub
(a pull-request comment for a plan, an issue body for a drift report).

    plan.py      a Plan in each format, and its one-line summary
    drift.py     a DriftReport in each format, with the hints on what to do about it
    style.py     what both share in every format: the mark (symbol and colour) of each plan
                 action and drift status, how a mapping value is written, colour on or off, JSON
    markdown.py  table cells that names and paths cannot break, and the budget that keeps a
                 report within what a GitHub comment or issue holds

Renderers write to the stream they are handed and return nothing; whether to colour is a flag.
May import: statusync.core (the values rendered), statusync.text (`printable`), statusync.console
(`plural`, the `Paint` type) and click, for colour only. Never httpx, the disk or the settings:
rendering a plan must work without credentials or network, and tests render into a StringIO.
"""
