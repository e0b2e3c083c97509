"""OAuth2 client credentials through the CLI against the sandbox over real HTTP on loopback: one
token per account and run, renewed when it expires mid-run, refreshed once on a 401, refusals that
stop the run, and never a secret or a token in what statusync prints or writes. Also the partner
id header."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from statusync.sandbox import FaultRule, LoggedRequest, SandboxServer, StoredIntegration
from tests.support.project import MAPPING_PATH, PUBLIC_KEY, SECRET_KEY, Project, Result, live

Cli = Callable[..., Result]
Start = Callable[..., SandboxServer]
SOURCE = "SENDCLOUD_CLIENT_ID / SENDCLOUD_CLIENT_SECRET (account 'default')"


def oauth2_settings(token_url: str, accounts: tuple[str, ...], extra: str = "") -> str:
    lines = ["accounts:"]
    for name in accounts:
        lines += [f"  {name}:", "    auth: oauth2", f"    token_url: {token_url}"]
    return "\n".join(lines) + "\n" + extra


def start_oauth2(
    project: Project,
    sandbox: Start,
    env: dict[str, str],
    accounts: tuple[str, ...] = ("default",),
    **options: object,
) -> SandboxServer:
    """The sandbox taking Bearer tokens only (an integration set to "Use OAuth2"), and statusync
    set up to get them: its key pair as the accounts' client id and secret."""
    # Written first so that mapping files may name the accounts; the URL is known once it serves.
    project.write("statusync.yaml", oauth2_settings("https://example.invalid/token", accounts))
    server = sandbox(oauth2_only=True, **options)
    project.write("statusync.yaml", oauth2_settings(server.token_url, accounts))
    del env["SENDCLOUD_PUBLIC_KEY"]
    del env["SENDCLOUD_SECRET_KEY"]
    env["SENDCLOUD_CLIENT_ID"] = PUBLIC_KEY
    env["SENDCLOUD_CLIENT_SECRET"] = SECRET_KEY
    return server


def token_requests(server: SandboxServer) -> list[int | None]:
    """Statuses of the token requests the sandbox saw."""
    return [r.status for r in server.store.requests() if r.path.startswith("/oauth2/token")]


def status_requests(server: SandboxServer) -> list[int | None]:
    """Statuses of the reads of the shops' statuses the sandbox saw."""
    return [r.status for r in server.store.requests() if r.path == "/api/v3/shop-order-statuses"]


def mapping_requests(server: SandboxServer, method: str) -> list[int | None]:
    return [r.status for r in server.store.requests() if r.method == method and r.path == MAPPING_PATH]


def test_apply_and_drift_with_oauth2(project: Project, cli: Cli, sandbox: Start, env: dict[str, str]) -> None:
    for i in (1, 2, 3):
        project.mapping(i, rts=f'"{i}"')
    server = start_oauth2(project, sandbox, env)
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert "Apply complete: 3 created" in result.out
    assert live(server, 2)["READY_TO_SEND"] == "2"
    assert token_requests(server) == [200]  # one token for the whole run
    assert mapping_requests(server, "POST") == [200, 200, 200]

    server.store.clear_requests()
    assert cli("drift").code == 0
    server.store.edit_mapping(3, {"CANCEL": "1"})
    drifted = cli("drift")
    assert drifted.code == 2 and "~ drifted    3  mappings/shop-3.yaml" in drifted.out
    assert token_requests(server) == [200, 200]  # each run gets its own
    assert cli("reconcile", "--yes").code == 0
    assert live(server, 3)["CANCEL"] is None


def test_one_token_per_account_and_run(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    for i in (1, 2, 3, 4, 5, 6):
        project.mapping(i, extra="account: eu\n" if i % 2 else "")
    server = start_oauth2(project, sandbox, env, accounts=("default", "eu"))
    result = cli("apply", "--yes", "--parallelism", "6")
    assert result.code == 0, result.err
    assert token_requests(server) == [200, 200]
    assert mapping_requests(server, "POST") == [200] * 6


def test_a_token_expired_mid_run_is_renewed(
    project: Project, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for i in (1, 2, 3, 4):
        project.mapping(i)
    server = start_oauth2(project, sandbox, env)
    store = server.store
    log_request = store.log_request

    expired: list[bool] = []

    def expire_after_the_second_post(entry: LoggedRequest) -> None:
        log_request(entry)
        if not expired and mapping_requests(server, "POST") == [200, 200]:
            expired.append(True)
            store.expire_tokens()  # the hour is over, with two integrations still to send

    monkeypatch.setattr(store, "log_request", expire_after_the_second_post)

    result = cli("apply", "--yes", "--parallelism", "1")
    assert result.code == 0, result.err
    assert "4 created" in result.out and "error" not in result.err.lower()
    assert token_requests(server) == [200, 200]
    # The next request, the third integration's read of its shop's statuses right before its
    # write, met the expired token: renewed, read again, and every write went out.
    assert status_requests(server) == [200, 200, 401, 200, 200]
    assert mapping_requests(server, "POST") == [200, 200, 200, 200]
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_token_is_renewed_before_it_expires_without_a_401(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    # Tokens of two seconds (renewed after one) and 0.2 s per request: the run (9 requests)
    # outlives its first token, and not one request meets an expired one.
    for i in (1, 2, 3, 4):
        project.mapping(i)
    server = start_oauth2(project, sandbox, env, token_lifetime=2, latency=0.2)
    result = cli("apply", "--yes", "--parallelism", "1")
    assert result.code == 0, result.err
    assert mapping_requests(server, "POST") == [200] * 4
    assert len(token_requests(server)) >= 2 and set(token_requests(server)) == {200}


def test_a_token_refused_again_after_its_renewal_stops_the_run(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in (1, 2, 3):
        project.mapping(i)
    server = start_oauth2(project, sandbox, env)
    monkeypatch.setattr(server.store, "token_valid", lambda token, now: False)
    result = cli("apply", "--yes", "--parallelism", "1")
    assert result.code == 1
    assert token_requests(server) == [200, 200]  # the first token, and one renewal
    # The reads of what the creates replace (apply's first requests), then the run stopped.
    assert mapping_requests(server, "GET") == [401, 401] and mapping_requests(server, "POST") == []
    assert (
        f"HTTP 401: Sendcloud rejected the API credentials (The access token is invalid or has "
        f"expired.); check the OAuth2 client id and secret in {SOURCE}"
    ) in result.err
    assert not project.state_file.exists() or cli("plan", "--detailed-exitcode").code == 2


def test_refused_client_credentials_stop_the_run_before_any_api_request(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.mapping(1)
    project.mapping(2)
    server = start_oauth2(project, sandbox, env)
    wrong = "wrong-client-secret-0987"
    env["SENDCLOUD_CLIENT_SECRET"] = wrong
    for command in (("apply", "--yes"), ("drift",)):
        result = cli(*command)
        assert result.code == 1
        assert (
            f"error: account 'default' stopped: OAuth2 token request to {server.token_url}: HTTP 401: "
            "invalid_client: Client authentication failed"
        ) in result.err
        assert f"check the OAuth2 client id and secret in {SOURCE}" in result.err
        assert wrong not in result.out + result.err
    assert mapping_requests(server, "POST") == [] and mapping_requests(server, "GET") == []
    assert token_requests(server) == [401, 401]  # once per run: the refusal stops it


def test_a_token_endpoint_that_fails_for_a_moment_is_retried(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str], retry_waits: list[float]
) -> None:
    project.mapping(1)
    server = start_oauth2(project, sandbox, env)
    server.store.add_fault(FaultRule(method="POST", path="/oauth2/token", status=503, times=2))
    result = cli("apply", "--yes")
    assert result.code == 0, result.err
    assert token_requests(server) == [503, 503, 200]
    assert len(retry_waits) == 2 and mapping_requests(server, "POST") == [200]


def test_missing_client_credentials_are_named_before_any_request(
    project: Project, cli: Cli, sandbox: Start, env: dict[str, str]
) -> None:
    project.mapping(1)
    server = start_oauth2(project, sandbox, env)
    del env["SENDCLOUD_CLIENT_SECRET"]
    result = cli("apply", "--yes")
    assert result.code == 1
    assert (
        "missing credentials for account 'default': set SENDCLOUD_CLIENT_SECRET "
        "(the Sendcloud OAuth2 client secret)"
    ) in result.err
    assert server.store.requests() == []


def test_no_secret_or_token_in_any_output(
    project: Project, cli: Cli, sandbox: Start, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for i in (1, 2):
        project.mapping(i)
    server = start_oauth2(project, sandbox, env)
    issued: list[str] = []
    issue_token = server.store.issue_token

    def recorded(lifetime: float, now: float) -> str:
        issued.append(issue_token(lifetime, now))
        return issued[-1]

    monkeypatch.setattr(server.store, "issue_token", recorded)

    outputs = [
        cli("plan", "--out", "planfile"),
        cli("apply", "planfile", "--yes"),
        cli("drift"),
        cli("drift", "--format", "json"),
        cli("validate", "--remote"),
    ]
    server.store.edit_mapping(1, {"CANCEL": "2"})
    server.store.add_integration(StoredIntegration(9, "ACME FR", mapping=("1", "2", "3", None)))
    outputs += [cli("reconcile", "--yes"), cli("import", "--integration", "9")]
    server.store.expire_tokens()
    project.mapping(2, cancel='"1"')
    outputs.append(cli("apply", "--yes"))
    assert [r.code for r in outputs] == [0, 0, 0, 0, 0, 0, 0, 0], [r.err for r in outputs]
    assert len(issued) == 7
    texts = [r.out + r.err for r in outputs]
    texts += [project.state_file.read_text(), (project.root / "planfile").read_text()]
    texts += [p.read_text() for p in (project.root / "mappings").rglob("*.yaml")]
    for text in texts:
        for secret in (SECRET_KEY, PUBLIC_KEY, *issued):
            assert secret not in text


def test_the_partner_id_goes_with_every_api_request(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    project.mapping(2)
    server = sandbox()
    project.write("statusync.yaml", "partner_id: 6f1c2d3e-partner\n")
    assert cli("apply", "--yes").code == 0
    assert cli("drift").code == 0
    sent = [r.partner_id for r in server.store.requests()]
    # apply: a GET of what each create replaces, of the shop's statuses, and a POST each;
    # drift: a GET each.
    assert len(sent) == 8 and set(sent) == {"6f1c2d3e-partner"}


def test_without_a_partner_id_no_header_is_sent(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    server = sandbox()
    assert cli("apply", "--yes").code == 0
    assert [r.partner_id for r in server.store.requests()] == [None, None, None]  # GET, GET, POST


def test_the_sandbox_can_insist_on_oauth2(project: Project, cli: Cli, sandbox: Start) -> None:
    project.mapping(1)
    server = sandbox(oauth2_only=True)
    result = cli("apply", "--yes")
    assert result.code == 1
    assert "accepts OAuth2 access tokens only" in result.err
    assert "check the public and secret key in SENDCLOUD_PUBLIC_KEY / SENDCLOUD_SECRET_KEY" in result.err
    # The key pair over Basic is refused at the first request (the read of what the create
    # replaces).
    assert mapping_requests(server, "GET") == [401] and mapping_requests(server, "POST") == []


def test_a_token_endpoint_that_stays_down_is_asked_by_one_fetch_for_the_account(
    project: Project,
    cli: Cli,
    sandbox: Start,
    env: dict[str, str],
    retry_waits: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for i in range(1, 4):
        project.mapping(i)
    server = start_oauth2(project, sandbox, env)
    assert cli("apply", "--yes").code == 0
    for i in range(1, 4):
        project.mapping(i, cancel='"1"')  # updates: straight to the POSTs, 3 workers at once
    server.store.expire_tokens()
    server.store.add_fault(FaultRule(method="POST", path="/oauth2/token", status=503))
    server.store.clear_requests()
    result = cli("apply", "--yes", "--force", "--parallelism", "3")
    assert result.code == 1 and "Traceback" not in result.err
    # Not 4 per worker (12): one fetch and its retries for the account, then the run stops.
    assert token_requests(server) == [503] * 4 and mapping_requests(server, "POST") == []
    assert (
        f"error: account 'default' stopped: OAuth2 token request to {server.token_url}: HTTP 503: "
        "Failure injected by the statusync sandbox (after 4 attempts); 3 integrations left undone"
    ) in result.err
    # The token was first asked for by the read of the shop statuses before writing: no write
    # was sent, none failed.
    assert (
        "Apply incomplete: 0 created, 0 updated, 0 reset, 0 forgotten, 0 failed, 3 not sent "
        "(their account was stopped)."
    ) in result.out
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 3 and all(
        line.startswith(f"OAuth2 token request to {server.token_url}: HTTP 503") for line in retries
    )
    assert cli("plan", "--detailed-exitcode").code == 2  # nothing recorded as done
