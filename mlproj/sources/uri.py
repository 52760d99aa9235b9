"""Project URIs as text: quotes, `#subdirectory`, URL forms, credentials, cache keys.

Pure string work; nothing here touches the file system or starts git.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from mlproj._util.sha256 import sha256_hex
from mlproj._util.uri import scheme_of
from mlproj.errors import SourceError

# Schemes that git itself can fetch from and that we accept.
GIT_SCHEMES = frozenset({"http", "https", "ssh", "git", "file", "git+ssh", "ssh+git"})
# Schemes whose user part is (or may be) a secret: drop all user info, not only a password.
_SECRET_USER_SCHEMES = frozenset({"http", "https", "git", "file"})

# git's `<transport>::<address>` form (remote helpers such as `ext::` run arbitrary commands).
_HELPER_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9+._-]*)::")
# Patterns that a project run in place never needs stay text until first use (`re` compiles
# and caches them then): compiling them at import cost every start.
# scp-like `[user@]host:path`: no slash before the first colon (git's own rule).
_SCP = r"^(?:[^@/:\s]+@)?[A-Za-z0-9._\[\]-]+:(?!//)[^\s]"
_FULL_SHA = r"^[0-9a-fA-F]{40}$"
_ABBREV_SHA = r"^[0-9a-fA-F]{4,39}$"


def strip_quotes(uri: str) -> str:
    """Surrounding `'` and `"` go, as MLflow does (`uri.strip("'\\"")`)."""
    return uri.strip("'\"")


def split_subdirectory(uri: str) -> tuple[str, str | None]:
    """`"repo#sub/dir"` -> `("repo", "sub/dir")`: quotes stripped, split at the first `#`."""
    text = strip_quotes(uri)
    base, sep, sub = text.partition("#")
    return base, (sub if sep and sub else None)


def url_scheme(uri: str) -> str | None:
    """The scheme of a `scheme://...` URL; None for anything else (a path, git's scp-like
    `host:path`), as git itself tells a URL from the rest."""
    scheme = scheme_of(uri)
    return scheme if scheme is not None and uri[len(scheme) + 1 :].startswith("//") else None


def is_full_sha(text: str) -> bool:
    return re.match(_FULL_SHA, text) is not None


def is_abbreviated_sha(text: str) -> bool:
    """4 to 39 hex digits: what git accepts as a short commit sha."""
    return re.match(_ABBREV_SHA, text) is not None


def is_scp_like(uri: str) -> bool:
    return bool(re.match(_SCP, uri)) and "::" not in uri.split("/", 1)[0]


def is_git_uri(uri: str) -> bool:
    """Does `uri` (without looking at the disk) have the form of a git remote URL?"""
    base, _ = split_subdirectory(uri)
    if not base or base.startswith("-") or _HELPER_RE.match(base):
        return False
    scheme = url_scheme(base)
    if scheme is not None:
        return scheme in GIT_SCHEMES
    return is_scp_like(base)


def is_zip_uri(base: str) -> bool:
    """A zip project: MLflow's `.+\\.zip$` on the URI without `#subdirectory` (any case here)."""
    return len(base) > len(".zip") and base.lower().endswith(".zip")


def check_safe(base: str, version: str | None) -> None:
    """Refuse what could make git run commands or read our arguments as options."""
    if not base:
        raise SourceError("empty project URI", hint="give a directory or a git URL")
    helper = _HELPER_RE.match(base)
    if helper:
        raise SourceError(
            f"refusing git remote-helper URL {helper.group(1)}::… ({helper.group(1)}:: "
            "transports can run arbitrary commands)",
            hint="use an https://, ssh://, git:// or file:// URL",
        )
    if base.startswith("-"):
        raise SourceError(
            f"refusing project URI starting with '-': {base}", hint="prefix a local path with ./"
        )
    if any(ch in base for ch in "\n\r\0"):
        raise SourceError(f"project URI contains a control character: {base!r}")
    if version is not None:
        if not version or version.startswith("-"):
            raise SourceError(
                f"refusing version {version!r}: versions may not be empty or start with '-'"
            )
        if any(ch.isspace() or ord(ch) < 32 for ch in version):
            raise SourceError(f"refusing version {version!r}: it contains whitespace")


def file_uri_path(base: str) -> str:
    """The local path of a `file://` URI (MLflow joins netloc and path)."""
    parts = urlsplit(base)
    netloc = "" if parts.netloc in ("", "localhost") else parts.netloc
    return unquote(netloc + parts.path)


def strip_credentials(url: str) -> str:
    """Remove secrets from a URL: `https://user:token@host/x` -> `https://host/x`.

    For ssh the user name is kept (it is not a secret; `git@host` needs it), a password is not.
    scp-like `user@host:path` has no room for a password and is returned unchanged.
    """
    scheme = url_scheme(url)
    if scheme is None:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if scheme in _SECRET_USER_SCHEMES:
        netloc = hostport
    else:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{hostport}" if user else hostport
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scrub(text: str) -> str:
    """Remove `user:password@` from any URL inside a message."""
    return re.sub(r"(://)[^/@\s:]+:[^/@\s]*@", r"\1", text)


def normalize(url: str) -> str:
    """The cache identity of a remote: credentials off, scheme and host lower-case, no trailing
    `/` or `.git`. Local paths must be given as `file://` + absolute path."""
    url = strip_credentials(url)
    scheme = url_scheme(url)
    if scheme is not None:
        parts = urlsplit(url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        netloc = f"{userinfo}{at}{hostport.lower()}"
        url = urlunsplit((scheme, netloc, parts.path, parts.query, ""))
    elif is_scp_like(url):
        userhost, _, path = url.partition(":")
        user, at, host = userhost.rpartition("@")
        url = f"{user}{at}{host.lower()}:{path}"
    url = url.rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")].rstrip("/")
    return url


def cache_key(url: str) -> str:
    """A directory name for a remote: readable repo name + hash of the normalised URL."""
    norm = normalize(url)
    digest = sha256_hex(norm.encode("utf-8"))[:20]
    tail = re.split(r"[/:]", norm)[-1] if norm else ""
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", tail)[:40].strip(".") or "repo"
    return f"{slug}-{digest}"
