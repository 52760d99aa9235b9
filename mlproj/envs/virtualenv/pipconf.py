"""pip's own index configuration, translated for uv (which does not read pip.conf).

Users behind a corporate mirror configure pip once (pip.conf or PIP_* variables) and expect every
tool that installs packages to follow it. pip's rules, reproduced here:
- files, later ones winning: /etc/xdg/pip/pip.conf ($XDG_CONFIG_DIRS), /etc/pip.conf, then the
  user's ~/.pip/pip.conf and ~/.config/pip/pip.conf (skipped when $PIP_CONFIG_FILE names an
  existing file), then $PIP_CONFIG_FILE; PIP_CONFIG_FILE=/dev/null loads no file at all;
- within a file, [install] overrides [global];
- PIP_* variables override every file; list values are whitespace-separated.
"""

from __future__ import annotations

import configparser
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_KEYS = ("index-url", "extra-index-url", "find-links", "no-index", "constraint", "cert")
_SECTIONS = ("global", "install")
_TRUE = {"1", "true", "yes", "y", "on"}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # a scheme (2+ letters: not a drive letter)


@dataclass(frozen=True)
class PipIndexConfig:
    """The index settings pip would use for `pip install`."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    constraints: tuple[str, ...] = ()
    cert: str | None = None  # a CA bundle (corporate proxies that re-sign TLS)
    sources: tuple[str, ...] = ()  # the files and variables the values came from


@dataclass(frozen=True)
class UvIndexSettings:
    """What to add to a `uv pip install`: variables (URLs may hold secrets) and plain flags."""

    env: Mapping[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()

    def describe(self) -> dict[str, object]:
        """JSON-able and free of credentials (for logs and `run --dry-run`)."""
        return {
            "env": {k: redact_urls(v) for k, v in sorted(self.env.items())},
            "args": list(self.args),
        }


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's config files for `pip install`, lowest priority first."""
    explicit = environ.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        return []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    if not (explicit and Path(explicit).exists()):
        home = Path(environ.get("HOME") or Path.home())
        config_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        files += [home / ".pip" / "pip.conf", config_home / "pip" / "pip.conf"]
    if explicit:
        files.append(Path(explicit))
    return files


def read_pip_config(environ: Mapping[str, str] | None = None) -> PipIndexConfig:
    """The index settings from pip's files and PIP_* variables."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    sources: list[str] = []
    for path in config_files(env):
        found = _read_file(path)
        if found:
            values.update(found)
            sources.append(str(path))
    for key in _KEYS:
        var = "PIP_" + key.upper().replace("-", "_")
        if var in env:
            values[key] = env[var]
            sources.append(var)
    return PipIndexConfig(
        index_url=values.get("index-url", "").strip() or None,
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(_absolute(v) for v in values.get("find-links", "").split()),
        no_index=values.get("no-index", "").strip().lower() in _TRUE,
        constraints=tuple(_absolute(v) for v in values.get("constraint", "").split()),
        cert=values.get("cert", "").strip() or None,
        sources=tuple(sources),
    )


def uv_settings(
    config: PipIndexConfig,
    environ: Mapping[str, str] | None = None,
    *,
    project_sets_index: bool = False,
) -> UvIndexSettings:
    """Translate pip's settings into uv's, leaving alone whatever the user set for uv itself.

    `project_sets_index`: the project's requirement lines carry their own `--index-url`; pip
    lets that win over its configuration, so the configured index is not passed to uv (where
    an UV_INDEX_URL would win over the file).
    """
    env = os.environ if environ is None else environ
    out: dict[str, str] = {}
    args: list[str] = []
    user_index = _any_set(env, "UV_INDEX_URL", "UV_DEFAULT_INDEX")
    user_extra = _any_set(env, "UV_EXTRA_INDEX_URL", "UV_INDEX")
    if config.index_url and not user_index and not project_sets_index:
        out["UV_INDEX_URL"] = config.index_url
    if config.extra_index_urls and not user_extra:
        out["UV_EXTRA_INDEX_URL"] = " ".join(config.extra_index_urls)
        if not _any_set(env, "UV_INDEX_STRATEGY"):
            # pip picks the best version across all indexes; uv's default stops at the first
            # index that has the package, which breaks setups made for pip.
            out["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    if config.find_links and not _any_set(env, "UV_FIND_LINKS"):
        out["UV_FIND_LINKS"] = ",".join(config.find_links)
    if config.constraints and not _any_set(env, "UV_CONSTRAINT"):
        out["UV_CONSTRAINT"] = " ".join(config.constraints)
    if config.cert and Path(config.cert).is_file() and not _any_set(env, "SSL_CERT_FILE"):
        out["SSL_CERT_FILE"] = config.cert
    if config.no_index and not _any_set(env, "UV_NO_INDEX"):
        args.append("--no-index")  # uv has no variable for it on `uv pip install`
    return UvIndexSettings(env=out, args=tuple(args))


def user_uv_settings(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's own UV_* index variables (part of what shapes an environment)."""
    env = os.environ if environ is None else environ
    names = (
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_EXTRA_INDEX_URL",
        "UV_INDEX",
        "UV_FIND_LINKS",
        "UV_NO_INDEX",
        "UV_CONSTRAINT",
        "UV_INDEX_STRATEGY",
    )
    return {name: env[name] for name in names if env.get(name)}


def redact_urls(text: str) -> str:
    """Hide passwords and tokens of URLs in a space/comma-separated value."""
    parts = []
    for word in text.replace(",", " , ").split():
        parts.append(_redact_url(word))
    return " ".join(parts).replace(" , ", ",")


def _redact_url(word: str) -> str:
    parsed = urllib.parse.urlsplit(word)
    if not parsed.netloc or "@" not in parsed.netloc:
        return word
    host = parsed.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parsed._replace(netloc=f"***@{host}"))


def _any_set(env: Mapping[str, str], *names: str) -> bool:
    return any(env.get(name) for name in names)


def _read_file(path: Path) -> dict[str, str]:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return {}  # pip would complain itself; a broken file must not stop a run
    found: dict[str, str] = {}
    for section in _SECTIONS:
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            key = name.lower().replace("_", "-").lstrip("-")
            if key in _KEYS:
                found[key] = value
    return found


def _absolute(location: str) -> str:
    """Plain paths become absolute (pip resolves them against the working directory)."""
    if _URL.match(location):
        return location
    return str(Path(location).expanduser().absolute())
