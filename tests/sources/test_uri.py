"""URI text handling: quotes, #subdirectory, URL forms, credentials, cache identity."""

from __future__ import annotations

import pytest

from mlproj.errors import SourceError
from mlproj.sources import is_git_uri, split_subdirectory
from mlproj.sources.subdir import clean_subdirectory
from mlproj.sources.uri import cache_key, check_safe, normalize, strip_credentials


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("proj", ("proj", None)),
        ("proj#sub/dir", ("proj", "sub/dir")),
        ("'https://h/r.git#a#b'", ("https://h/r.git", "a#b")),
        ('"./p#v1.2"', ("./p", "v1.2")),
        ("proj#", ("proj", None)),
    ],
)
def test_split_subdirectory(uri: str, expected: tuple[str, str | None]) -> None:
    assert split_subdirectory(uri) == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://github.com/org/repo.git", True),
        ("http://host/repo", True),
        ("ssh://git@host:2222/org/repo.git", True),
        ("git://127.0.0.1:9418/repo.git#sub", True),
        ("git@github.com:org/repo.git", True),
        ("file:///srv/git/repo.git", True),
        ("'https://host/repo'", True),
        ("./local/dir", False),
        ("/abs/dir", False),
        ("relative", False),
        ("ext::sh -c touch% /tmp/x", False),
        ("fd::17", False),
        ("-uhelp", False),
        ("s3://bucket/project", False),
    ],
)
def test_is_git_uri(uri: str, expected: bool) -> None:
    assert is_git_uri(uri) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@host/x", "https://host/x"),
        ("https://ghp_secret@host/org/x.git", "https://host/org/x.git"),
        ("http://u:p@127.0.0.1:8080/r.git", "http://127.0.0.1:8080/r.git"),
        ("ssh://git:pw@host/x.git", "ssh://git@host/x.git"),
        ("ssh://git@host/x.git", "ssh://git@host/x.git"),
        ("git@github.com:org/x.git", "git@github.com:org/x.git"),
        ("https://host/x", "https://host/x"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


def test_one_cache_entry_per_repository_whatever_the_spelling() -> None:
    spellings = [
        "https://GitHub.com/org/Repo.git",
        "https://user:tok@github.com/org/Repo/",
        "HTTPS://github.com/org/Repo",
    ]
    assert {normalize(s) for s in spellings} == {"https://github.com/org/Repo"}
    assert len({cache_key(s) for s in spellings}) == 1
    assert cache_key("https://github.com/org/Repo") != cache_key("https://github.com/org/Other")
    assert cache_key("https://github.com/org/Repo").startswith("Repo-")


@pytest.mark.parametrize(
    ("uri", "version", "needle"),
    [
        ("ext::sh -c touch% /tmp/pwned", None, "ext::"),
        ("fd::17", None, "fd::"),
        ("transport::whatever", None, "transport::"),
        ("--upload-pack=touch /tmp/pwned", None, "starting with '-'"),
        ("https://host/x", "--upload-pack=touch /tmp/pwned", "start with '-'"),
        ("https://host/x", "", "may not be empty"),
        ("https://host/x", "main branch", "whitespace"),
    ],
)
def test_unsafe_uris_and_versions_are_refused(uri: str, version: str | None, needle: str) -> None:
    with pytest.raises(SourceError, match="refusing") as info:
        check_safe(uri, version)
    assert needle in info.value.one_line()
    assert "\n" not in info.value.one_line()


@pytest.mark.parametrize("sub", ["../up", "a/../../up", "/etc", ".git", "a/.git/hooks"])
def test_escaping_subdirectories_are_refused(sub: str) -> None:
    with pytest.raises(SourceError, match=sub.split("/")[0] or "absolute"):
        clean_subdirectory(sub)


def test_dots_inside_subdirectory_names_are_allowed() -> None:
    assert clean_subdirectory("./models/v1.2//") == "models/v1.2"
    assert clean_subdirectory("a..b") == "a..b"
