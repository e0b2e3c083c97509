"""The Sendcloud API client: everything statusync knows about talking to the Integrations API.

    client.py       SendcloudClient: the typed calls, the one place httpx errors become ApiError
    models.py       the API's answers as lenient pydantic models (LiveMapping, ShopStatus, ...)
    retry.py        how the API and the token endpoint are retried: their profiles for the one
                    retry policy (statusync.http.retry_policy)
    ratelimit.py    TokenBucket and the burst rule, shared with the sandbox
    pacing.py       Pace: a 429 halves the pace of every worker of the account, workers sized to the
                    rate; STOP and the waits it cuts short
    urls.py         which base URLs may be used (https, or http on loopback)
    auth.py         how requests authenticate: the key pair (Basic) or OAuth2 client credentials
                    (Bearer tokens fetched, shared and renewed), and the secrets to redact
    credentials.py  the key pair, the OAuth2 client credentials, and the environment variables
                    that hold them by default

May import: httpx, pydantic, statusync.errors, statusync.text, statusync.core, statusync.http and
the version (for the User-Agent). Never the settings or YAML layer (statusync.files), click,
ruamel or the disk: the caller (the workspace) reads those and hands the client plain values.

Nothing is re-exported here on purpose: statusync.files.settings imports `urls` and `credentials`,
and `plan` must not pay for httpx, so importing this package has to stay free. Import from the
modules.
"""
