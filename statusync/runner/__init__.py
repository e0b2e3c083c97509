"""Running a plan or a check against the API: a few requests at a time (the rate limit sets
the pace), each result recorded in the state as it comes in, and stops at a safe point.

It may import statusync.core, statusync.files (to record) and the client's types; it never
prints: progress goes through the callbacks the commands pass in.
"""
