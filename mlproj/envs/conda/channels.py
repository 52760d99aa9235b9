"""conda.yml `channels:` entries -> channel base URLs, the way conda reads them.

A bare name (`conda-forge`, `pytorch/label/nightly`) is put under the channel alias, which the
user can change with MLPROJ_CHANNEL_ALIAS (conda's `channel_alias`); by default it is rattler's
own default alias. URLs are kept; `file://` URLs and local paths (absolute, `./rel`, `~/...`)
name local channels, relative paths being taken from the conda.yml's directory.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlproj.errors import EnvError

ALIAS_ENV = "MLPROJ_CHANNEL_ALIAS"
DEFAULTS_ENV = "MLPROJ_DEFAULT_CHANNELS"  # what `defaults` (or no channels at all) stands for
_FALLBACK_DEFAULTS = ("conda-forge",)
_SKIPPED = {"nodefaults"}  # conda's "do not add defaults" marker: nothing to resolve


def default_alias() -> str:
    """rattler's built-in channel alias (read from its ChannelConfig, not written here)."""
    from rattler import ChannelConfig

    default = inspect.signature(ChannelConfig.__init__).parameters["channel_alias"].default
    return str(default)


def channel_alias(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    alias = env.get(ALIAS_ENV, "").strip() or default_alias()
    return alias if alias.endswith("/") else alias + "/"


def expand_defaults(channels: Sequence[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """The channel list with `defaults` replaced by MLPROJ_DEFAULT_CHANNELS (else conda-forge)."""
    env = os.environ if environ is None else environ
    configured = [c.strip() for c in env.get(DEFAULTS_ENV, "").split(",") if c.strip()]
    defaults = configured or list(_FALLBACK_DEFAULTS)
    names = [c for c in channels if c not in _SKIPPED] or ["defaults"]
    out: list[str] = []
    for name in names:
        for item in defaults if name == "defaults" else [name]:
            if item not in out:
                out.append(item)
    return out


def resolve_channels(
    channels: Sequence[str], root: Path, environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """Base URLs (ending in "/") of the channels, in priority order."""
    from rattler import Channel, ChannelConfig

    config = ChannelConfig(channel_alias=channel_alias(environ), root_dir=str(root))
    urls: list[str] = []
    for name in expand_defaults(channels, environ):
        try:
            url = Channel(name, config).base_url
        except Exception as exc:  # rattler raises its own InvalidChannelError
            raise EnvError(
                f"invalid conda channel {name!r}: {exc}",
                "use a channel name, an https:// or file:// URL, or a path",
            ) from None
        if url not in urls:
            urls.append(url)
    return tuple(urls)
