"""What statusync's HTTP clients share, whichever API they talk to (Sendcloud's, its OAuth2 token
endpoint, GitHub's).

    retry_policy.py  when a failed request is sent again and after how long, or why not: one pure
                     function over a per-API Profile, so that the three request loops only send,
                     ask it, and sleep or raise
    excerpt.py       a short, printable excerpt of an error answer's body for a message
    per_thread.py    PoolPerThread: an httpx transport with a connection pool per worker thread,
                     whose cost per request does not grow with the number of workers
    tls.py           the process's one TLS context, shared by every account's transport
    cookieless.py    CookielessClient: an httpx.Client that keeps no cookie an answer sets
    proxy.py         a proxy of the environment that httpx cannot use, said as such

May import: httpx, statusync.errors and statusync.text. Never click, ruamel, the YAML layer
(statusync.files) or a client of its own: sendcloud/ and github/ build on this package.
"""
