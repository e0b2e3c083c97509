"""The pure core: what a mapping file means, the plan, the safety threshold, drift and the state
as values, and the rules between them.

Everything here is a function of its arguments. It may import the standard library's value
types, pydantic (for the mapping file's model), statusync.errors and statusync.text (the leaves
below it); never click, httpx, ruamel, subprocess or the disk, nor any other statusync package
(tests/unit/test_layout.py checks this).
"""
