import pytest

from statusync.errors import StatusyncError
from statusync.files.settings import AccountSettings, Settings
from statusync.sendcloud.credentials import Credentials
from statusync.workspace import credentials_for


def test_keys_come_from_the_accounts_variables() -> None:
    settings = Settings(accounts={"default": AccountSettings(), "eu": AccountSettings(
        public_key_env="EU_PK", secret_key_env="EU_SK")})
    creds = credentials_for(settings, "eu", {"EU_PK": "pk", "EU_SK": "sk"})
    assert (creds.public_key, creds.secret_key) == ("pk", "sk")


@pytest.mark.parametrize("env, named", [
    ({}, "set SENDCLOUD_PUBLIC_KEY .the Sendcloud API public key. and SENDCLOUD_SECRET_KEY "
         ".the Sendcloud API secret key.$"),
    ({"SENDCLOUD_PUBLIC_KEY": "pk"}, "set SENDCLOUD_SECRET_KEY .the Sendcloud API secret key.$"),
    ({"SENDCLOUD_PUBLIC_KEY": "pk", "SENDCLOUD_SECRET_KEY": ""}, "set SENDCLOUD_SECRET_KEY"),
    ({"SENDCLOUD_PUBLIC_KEY": "pk", "SENDCLOUD_SECRET_KEY": "  "}, "set SENDCLOUD_SECRET_KEY"),
])
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
