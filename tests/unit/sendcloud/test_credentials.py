import pytest

from statusync.errors import StatusyncError
from statusync.files.settings import AccountSettings, Settings
from statusync.sendcloud.credentials import ClientCredentials, Credentials
from statusync.workspace import credentials_for


def test_keys_come_from_the_accounts_variables() -> None:
    settings = Settings(
        accounts={
            "default": AccountSettings(),
            "eu": AccountSettings(public_key_env="EU_PK", secret_key_env="EU_SK"),
        }
    )
    creds = credentials_for(settings, "eu", {"EU_PK": "pk", "EU_SK": "sk"})
    assert creds == Credentials("pk", "sk")


@pytest.mark.parametrize(
    "env, named",
    [
        (
            {},
            "set SENDCLOUD_PUBLIC_KEY .the Sendcloud API public key. and SENDCLOUD_SECRET_KEY "
            ".the Sendcloud API secret key.$",
        ),
        ({"SENDCLOUD_PUBLIC_KEY": "pk"}, "set SENDCLOUD_SECRET_KEY .the Sendcloud API secret key.$"),
        # An empty secret of CI is a mistake to name as such, not a missing variable.
        (
            {"SENDCLOUD_PUBLIC_KEY": "pk", "SENDCLOUD_SECRET_KEY": ""},
            "^the environment variable SENDCLOUD_SECRET_KEY is set but empty; set it to the Sendcloud API "
            "secret key of account 'default', or unset it$",
        ),
        (
            {"SENDCLOUD_PUBLIC_KEY": "  ", "SENDCLOUD_SECRET_KEY": "sk"},
            "^the environment variable SENDCLOUD_PUBLIC_KEY is set but empty",
        ),
    ],
)
def test_missing_keys_are_named_not_shown(env: dict[str, str], named: str) -> None:
    with pytest.raises(StatusyncError, match=named) as info:
        credentials_for(Settings(), "default", env)
    assert "pk" not in str(info.value).replace("public", "")


def test_an_undefined_account_is_an_error() -> None:
    with pytest.raises(StatusyncError, match="account 'eu' is not defined"):
        credentials_for(Settings(), "eu", {})


def test_repr_and_str_hide_both_keys() -> None:
    creds = Credentials("public-123", "secret-456")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "public-123" not in text and "secret-456" not in text


OAUTH2 = Settings(
    accounts={
        "default": AccountSettings(),
        "eu": AccountSettings(
            auth="oauth2",
            client_id_env="EU_ID",
            client_secret_env="EU_SECRET",
            token_url="http://127.0.0.1:8765/oauth2/token/",
        ),
    }
)


def test_an_oauth2_account_gets_client_credentials_from_its_variables() -> None:
    creds = credentials_for(
        OAUTH2, "eu", {"EU_ID": "cid", "EU_SECRET": "csecret", "SENDCLOUD_PUBLIC_KEY": "pk"}
    )
    assert creds == ClientCredentials("cid", "csecret", "http://127.0.0.1:8765/oauth2/token/")


@pytest.mark.parametrize(
    "env, named",
    [
        (
            {},
            "set EU_ID .the Sendcloud OAuth2 client id. and EU_SECRET .the Sendcloud OAuth2 client secret.$",
        ),
        ({"EU_ID": "cid"}, "set EU_SECRET .the Sendcloud OAuth2 client secret.$"),
        (
            {"EU_ID": "cid", "EU_SECRET": " "},
            "^the environment variable EU_SECRET is set but empty; set it "
            "to the Sendcloud OAuth2 client secret of account 'eu'",
        ),
        # The key pair is no stand-in for the client credentials.
        ({"SENDCLOUD_PUBLIC_KEY": "pk", "SENDCLOUD_SECRET_KEY": "sk"}, "set EU_ID .* and EU_SECRET"),
    ],
)
def test_missing_client_credentials_are_named_with_their_role(env: dict[str, str], named: str) -> None:
    with pytest.raises(StatusyncError, match=named):
        credentials_for(OAUTH2, "eu", env)
