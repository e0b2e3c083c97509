import pytest

from statusync.sendcloud.urls import api_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://panel.sendcloud.sc/api/v3",
        "http://127.0.0.1:8765/api/v3",
        "http://127.1.2.3/x",
        "http://localhost:1/api",
        "http://LOCALHOST/api",
        "http://[::1]:8765/api/v3",
    ],
)
def test_accepted(url: str) -> None:
    assert api_url_problem(url) is None


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("http://panel.sendcloud.sc/api/v3", "only https"),
        ("http://10.0.0.1/api", "only https"),
        ("http://localhost.example.com/api", "only https"),
        ("ftp://panel.sendcloud.sc/", "not an http(s) URL"),
        ("panel.sendcloud.sc/api/v3", "not an http(s) URL"),
        ("https://user:pass@panel.sendcloud.sc/api/v3", "must not contain credentials"),
        ("http://127.0.0.1:abc/api", "port is not a number"),
        ("http://localhost:99999/api", "port is not a number"),
        (" https://panel.sendcloud.sc/api/v3", "white space"),
        ("http://127.0.0.1:8765/api/v3?k=1", "must not have a query"),
        ("https://panel.sendcloud.sc/api/v3#x", "must not have a query"),
        ("https://panel.sendcloud.sc/api/v3?", "must not have a query"),
        ("https://panel.sendcloud.sc/api/v3\n", "white space"),
    ],
)
def test_refused(url: str, fragment: str) -> None:
    problem = api_url_problem(url)
    assert problem is not None and fragment in problem
    assert "pass" not in problem.replace("password", "") and "abc" not in problem
