"""Running a plan or a check against the API: as many requests at a time as the rate limit
needs, each result recorded in the journal as it comes in (the state written once, at the end),
and stops at a safe point.

It may import statusync.core, statusync.errors, statusync.text, statusync.files (to record) and
the client's types and pacing; it never prints: progress goes through the callbacks the commands
pass in.
"""
