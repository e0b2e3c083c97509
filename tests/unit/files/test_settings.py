from __future__ import annotations

import hashlib
import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from statusync.errors import InvalidInput, StatusyncError
from statusync.files.settings import AccountSettings, Settings, load_settings
from statusync.sendcloud.ratelimit import HIGH_RATE_MARGIN

CONTRACT_EXAMPLE = """\
api_url: https://panel.sendcloud.sc/api/v3   # or env STATUSYNC_API_URL (env wins)
mappings: mappings
state: .statusync/state.json
on_removed: forget            # forget | reset   (what a deleted mapping file means)
safety:
  max_change_percent: 30
  min_managed: 10
rate_limit:
  unsafe_per_minute: 100
  safe_per_minute: 1000
accounts:
  default: {public_key_env: SENDCLOUD_PUBLIC_KEY, secret_key_env: SENDCLOUD_SECRET_KEY}
"""


def settings_from(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    (tmp_path / "statusync.yaml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path, env or {})


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        settings_from(tmp_path, text)
    return [str(p) for p in caught.value.problems]


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings == Settings()
    assert settings.api_url == "https://panel.sendcloud.sc/api/v3"
    assert (settings.mappings, settings.state, settings.on_removed) == (
        "mappings",
        ".statusync/state.json",
        "forget",
    )
    assert (settings.safety.max_change_percent, settings.safety.min_managed) == (30, 10)
    assert (settings.rate_limit.unsafe_per_minute, settings.rate_limit.safe_per_minute) == (100, 1000)
    assert settings.accounts == {
        "default": AccountSettings(
            public_key_env="SENDCLOUD_PUBLIC_KEY", secret_key_env="SENDCLOUD_SECRET_KEY"
        )
    }
    assert settings.source_sha256 == ""


def test_the_contract_example_is_the_defaults_plus_its_hash(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, CONTRACT_EXAMPLE)
    assert settings == Settings(source_sha256=hashlib.sha256(CONTRACT_EXAMPLE.encode()).hexdigest())


@pytest.mark.parametrize("text", ["", "# nothing set yet\n", "---\n"])
def test_an_empty_file_means_the_defaults(tmp_path: Path, text: str) -> None:
    settings = settings_from(tmp_path, text)
    assert settings == Settings(source_sha256=hashlib.sha256(text.encode()).hexdigest())


def test_values_are_read(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        """\
api_url: http://127.0.0.1:8765/api/v3
mappings: config/mappings
state: state/last.json
on_removed: reset
safety: {max_change_percent: 12.5, min_managed: 0}
rate_limit: {unsafe_per_minute: 50}
""",
    )
    assert settings.api_url == "http://127.0.0.1:8765/api/v3"
    assert (settings.mappings, settings.state, settings.on_removed) == (
        "config/mappings",
        "state/last.json",
        "reset",
    )
    assert (settings.safety.max_change_percent, settings.safety.min_managed) == (12.5, 0)
    assert (settings.rate_limit.unsafe_per_minute, settings.rate_limit.safe_per_minute) == (50, 1000)


def test_accounts_are_merged_over_the_implicit_default(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path, "accounts:\n  prod: {public_key_env: PROD_PUBLIC, secret_key_env: PROD_SECRET}\n"
    )
    assert settings.accounts == {
        "default": AccountSettings(),
        "prod": AccountSettings(public_key_env="PROD_PUBLIC", secret_key_env="PROD_SECRET"),
    }


def test_the_default_account_can_be_redefined(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "accounts:\n  default: {public_key_env: MY_PUBLIC}\n")
    assert settings.accounts == {"default": AccountSettings(public_key_env="MY_PUBLIC")}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"STATUSYNC_API_URL": "https://sandbox.example/api/v3"}, "https://sandbox.example/api/v3"),
        # Not checked here: the client refuses it before any request.
        ({"STATUSYNC_API_URL": "http://example.com/api"}, "http://example.com/api"),
        ({}, "https://from-file.example/api/v3"),
    ],
)
def test_the_environment_wins_over_api_url(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    assert settings_from(tmp_path, "api_url: https://from-file.example/api/v3\n", env).api_url == expected


@pytest.mark.parametrize("value", ["", " "])
@pytest.mark.parametrize("text", ["api_url: https://from-file.example/api/v3\n", None])
def test_an_empty_api_url_variable_is_an_error_not_the_file_or_production(
    tmp_path: Path, value: str, text: str | None
) -> None:
    if text is not None:
        (tmp_path / "statusync.yaml").write_text(text)
    with pytest.raises(StatusyncError) as caught:
        load_settings(tmp_path, {"STATUSYNC_API_URL": value})
    assert str(caught.value) == (
        "the environment variable STATUSYNC_API_URL is set but empty; set it to the API's URL "
        "(such as https://panel.sendcloud.sc/api/v3), or unset it"
    )


def test_the_environment_wins_without_a_file(tmp_path: Path) -> None:
    assert (
        load_settings(tmp_path, {"STATUSYNC_API_URL": "http://localhost:1/x"}).api_url
        == "http://localhost:1/x"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mapings: m\n", ["statusync.yaml:1:1: unknown key 'mapings' (did you mean 'mappings'?)"]),
        ("source_sha256: abc\n", ["statusync.yaml:1:1: unknown key 'source_sha256'"]),
        (
            "colour: red\n",
            [
                "statusync.yaml:1:1: unknown key 'colour'; expected one of: api_url, mappings, state, "
                "on_removed, safety, rate_limit, accounts, exclude, partner_id, language"
            ],
        ),
        (
            "safety:\n  max_change: 5\n",
            ["statusync.yaml:2:3: unknown key 'max_change' in safety (did you mean 'max_change_percent'?)"],
        ),
        (
            "rate_limit: {unsafe: 5}\n",
            ["statusync.yaml:1:14: unknown key 'unsafe' in rate_limit (did you mean 'unsafe_per_minute'?)"],
        ),
        (
            "accounts:\n  prod: {public_key: X}\n",
            [
                "statusync.yaml:2:10: unknown key 'public_key' in accounts.prod (did you mean "
                "'public_key_env'?)"
            ],
        ),
        (
            "on_removed: delete\n",
            ["statusync.yaml:1:13: on_removed: expected 'forget' or 'reset', got the string \"delete\""],
        ),
        (
            "on_removed: rest\n",
            [
                "statusync.yaml:1:13: on_removed: expected 'forget' or 'reset', "
                "got the string \"rest\" (did you mean 'reset'?)"
            ],
        ),
        (
            "safety: {min_managed: '5'}\n",
            [
                "statusync.yaml:1:23: safety.min_managed: expected a number, "
                'got the string "5"; write it unquoted: 5'
            ],
        ),
        (
            "safety: {max_change_percent: true}\n",
            ["statusync.yaml:1:30: safety.max_change_percent: expected a number, got true"],
        ),
        (
            "safety: {max_change_percent: 101}\n",
            [
                "statusync.yaml:1:30: safety.max_change_percent: "
                "expected a number at most 100, got the number 101"
            ],
        ),
        (
            "safety: {min_managed: -1}\n",
            ["statusync.yaml:1:23: safety.min_managed: expected a number at least 0, got the number -1"],
        ),
        (
            "rate_limit: {safe_per_minute: 0}\n",
            [
                "statusync.yaml:1:31: rate_limit.safe_per_minute: "
                "expected a positive integer, got the number 0"
            ],
        ),
        (
            "mappings: 12\n",
            ['statusync.yaml:1:11: mappings: expected a string, got the number 12; quote it: "12"'],
        ),
        ("state: ''\n", ["statusync.yaml:1:8: state: must not be empty"]),
        ("accounts:\n", ["statusync.yaml:1:10: accounts: expected a mapping of keys to values, got null"]),
        (
            "safety: 5\n",
            ["statusync.yaml:1:9: safety: expected a mapping of keys to values, got the number 5"],
        ),
        (
            "api_url: http://example.com/api/v3\n",
            [
                "statusync.yaml:1:10: API URL 'http://example.com/api/v3' uses plain http; only "
                "https is allowed "
                "(http only for loopback hosts such as the local sandbox)"
            ],
        ),
        (
            "api_url: ftp://example.com\n",
            [
                "statusync.yaml:1:10: API URL 'ftp://example.com' is not an http(s) URL; "
                "use e.g. https://panel.sendcloud.sc/api/v3"
            ],
        ),
        (
            "mappings: a\nmappings: b\n",
            ["statusync.yaml:2:1: duplicate key 'mappings' (also on line 1); keep only one"],
        ),
        ("- a\n", ["statusync.yaml:1:1: the top level must be a mapping of keys to values, not a list"]),
        (
            "safety: {\n",
            [
                "statusync.yaml:2:1: invalid YAML: did not find expected node content "
                "(while parsing a flow node on line 2)"
            ],
        ),
    ],
)
def test_invalid_settings_are_located(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert problems(tmp_path, text) == expected


def test_all_problems_of_the_settings_are_reported_together(tmp_path: Path) -> None:
    assert problems(tmp_path, "on_removed: nope\nsafety:\n  min_managd: 3\napi_url: http://x.example\n") == [
        "statusync.yaml:1:13: on_removed: expected 'forget' or 'reset', got the string \"nope\"",
        "statusync.yaml:3:3: unknown key 'min_managd' in safety (did you mean 'min_managed'?)",
        "statusync.yaml:4:10: API URL 'http://x.example' uses plain http; only https is allowed "
        "(http only for loopback hosts such as the local sandbox)",
    ]


def test_settings_that_are_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "statusync.yaml").write_bytes(b"mappings: \xff\n")
    with pytest.raises(InvalidInput) as caught:
        load_settings(tmp_path, {})
    assert [str(p) for p in caught.value.problems] == [
        "statusync.yaml:1:11: the file is not valid UTF-8 (byte 0xff); save it with UTF-8 encoding"
    ]


OAUTH2_ACCOUNT = """\
accounts:
  partner-eu:
    auth: oauth2
    client_id_env: EU_CLIENT_ID
    client_secret_env: EU_CLIENT_SECRET
    token_url: http://127.0.0.1:8765/oauth2/token/
partner_id: 4b3e2a10-partner
"""


def test_an_oauth2_account_and_a_partner_id_are_read(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, OAUTH2_ACCOUNT)
    account = settings.accounts["partner-eu"]
    assert (account.auth, account.client_id_env, account.client_secret_env, account.token_url) == (
        "oauth2",
        "EU_CLIENT_ID",
        "EU_CLIENT_SECRET",
        "http://127.0.0.1:8765/oauth2/token/",
    )
    assert account.credential_envs() == (
        ("EU_CLIENT_ID", "OAuth2 client id"),
        ("EU_CLIENT_SECRET", "OAuth2 client secret"),
    )
    assert settings.partner_id == "4b3e2a10-partner"
    assert settings.accounts["default"].auth == "basic"


def test_oauth2_defaults_are_sendclouds(tmp_path: Path) -> None:
    account = settings_from(tmp_path, "accounts:\n  eu: {auth: oauth2}\n").accounts["eu"]
    assert (account.client_id_env, account.client_secret_env, account.token_url) == (
        "SENDCLOUD_CLIENT_ID",
        "SENDCLOUD_CLIENT_SECRET",
        "https://account.sendcloud.com/oauth2/token/",
    )
    assert Settings().partner_id is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "accounts:\n  eu: {auth: oath2}\n",
            [
                "statusync.yaml:2:14: accounts.eu.auth: expected 'basic' or 'oauth2', got the "
                'string "oath2" '
                "(did you mean 'oauth2'?)"
            ],
        ),
        (
            "accounts:\n  eu: {auth: oauth2, client_id: X}\n",
            ["statusync.yaml:2:22: unknown key 'client_id' in accounts.eu (did you mean 'client_id_env'?)"],
        ),
        (
            "accounts:\n  eu:\n    auth: oauth2\n    token_url: http://account.example.com/token\n",
            [
                "statusync.yaml:4:16: token URL 'http://account.example.com/token' uses plain http; "
                "only https is "
                "allowed (http only for loopback hosts such as the local sandbox)"
            ],
        ),
        (
            "accounts:\n  eu: {auth: oauth2, token_url: 'https://u:p@account.sendcloud.com/t'}\n",
            [
                "statusync.yaml:2:33: token URL must not contain credentials; set them in the account's env "
                "variables"
            ],
        ),
        (
            "accounts:\n  eu: {auth: oauth2, token_url: ''}\n",
            [
                "statusync.yaml:2:33: token URL '' is not an http(s) URL; "
                "use e.g. https://account.sendcloud.com/oauth2/token/"
            ],
        ),
        (
            "accounts:\n  eu:\n    client_id_env: X\n",
            [
                "statusync.yaml:3:5: accounts.eu.client_id_env: only used with auth: oauth2 "
                "(this account uses basic auth, the default)"
            ],
        ),
        (
            "accounts:\n  eu: {auth: basic, token_url: 'https://x.example/t'}\n",
            [
                "statusync.yaml:2:21: accounts.eu.token_url: only used with auth: oauth2 "
                "(this account uses basic auth)"
            ],
        ),
        (
            "accounts:\n  eu: {auth: oauth2, secret_key_env: S}\n",
            [
                "statusync.yaml:2:22: accounts.eu.secret_key_env: only used with auth: basic "
                "(this account uses auth: oauth2)"
            ],
        ),
        (
            "accounts:\n  eu: {auth: oauth2, client_secret_env: 5}\n",
            [
                "statusync.yaml:2:41: accounts.eu.client_secret_env: expected a string, got the number 5; "
                'quote it: "5"'
            ],
        ),
        (
            "accounts:\n  eu: {public_key_env: 'EU PUBLIC'}\n",
            [
                'statusync.yaml:2:24: accounts.eu.public_key_env: "EU PUBLIC" is not an environment '
                "variable name: use letters, digits and '_', not starting with a digit (such as "
                "SENDCLOUD_PUBLIC_KEY)"
            ],
        ),
        (
            "accounts:\n  eu:\n    auth: oauth2\n    client_id_env: 1ST_CLIENT\n",
            [
                'statusync.yaml:4:20: accounts.eu.client_id_env: "1ST_CLIENT" is not an environment '
                "variable name: use letters, digits and '_', not starting with a digit (such as "
                "SENDCLOUD_PUBLIC_KEY)"
            ],
        ),
        (
            "partner_id: 12345\n",
            ['statusync.yaml:1:13: partner_id: expected a string, got the number 12345; quote it: "12345"'],
        ),
        (
            "partner_id: 'my partner'\n",
            [
                "statusync.yaml:1:13: partner_id: must be printable ASCII without spaces "
                "(it is sent as the Sendcloud-Partner-Id header)"
            ],
        ),
        ("partner_id: ''\n", ["statusync.yaml:1:13: partner_id: must not be empty"]),
    ],
)
def test_invalid_auth_settings_are_located(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert problems(tmp_path, text) == expected


@pytest.mark.parametrize("name", ["e u", "-eu", "eu'", "${{ github.token }}", "é"])
def test_an_account_name_is_plain_as_the_github_environment_it_names(tmp_path: Path, name: str) -> None:
    # The per-account workflows put it in an environment's name, a concurrency group and an
    # argument: anything but letters, digits, '.', '_' and '-' is refused where it is written.
    [problem] = problems(tmp_path, f"accounts:\n  {json.dumps(name)}: {{}}\n")
    assert problem.startswith("statusync.yaml:2:3: accounts: ") and "is not an account name" in problem


def test_an_account_may_have_rate_limits_of_its_own(tmp_path: Path) -> None:
    from statusync.workspace import Workspace

    (tmp_path / "statusync.yaml").write_text(
        "rate_limit: {unsafe_per_minute: 50}\n"
        "accounts:\n"
        "  eu: {public_key_env: EU_PUBLIC, secret_key_env: EU_SECRET,"
        " rate_limit: {unsafe_per_minute: 600, safe_per_minute: 3000}}\n"
    )
    env = {"SENDCLOUD_PUBLIC_KEY": "pk", "SENDCLOUD_SECRET_KEY": "sk", "EU_PUBLIC": "pk2", "EU_SECRET": "sk2"}
    ws = Workspace.open(None, None, env=env, root=tmp_path)
    with ExitStack() as stack:
        clients = ws.clients(["default", "eu"], stack)
        per_minute = {
            a: (c.pace("POST").per_minute(), c.pace("GET").per_minute()) for a, c in clients.items()
        }
    assert per_minute == {
        "default": (pytest.approx(50), pytest.approx(1000 * (1 - HIGH_RATE_MARGIN))),
        "eu": (pytest.approx(600), pytest.approx(3000 * (1 - HIGH_RATE_MARGIN))),
    }
