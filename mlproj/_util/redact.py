"""Secrets out of anything shown or recorded: URL credentials and token-like query values.

Applied to every MlprojError message and hint, the crash log and the recorded command line, so
a tracking URI such as `http://user:pw@host/?token=...` is never printed verbatim.
"""

from __future__ import annotations

import re

# The patterns stay text until a text could match (`re` compiles and caches them then): every
# run redacts its recorded command line, which rarely holds a URL with credentials.
# http(s)://anything@ : all of the userinfo is a secret there (`https://<token>@host`)
_HTTP_USERINFO = r"(?i)\b(https?://)[^/@\s?#]+@"
# other schemes keep the user name (`ssh://git@host`) but never a password
_PASSWORD = r"(://)([^/@\s:?#]+):[^/@\s?#]*@"
# ?token=... &api_key=... &X-Amz-Signature=... (name matched anywhere in the parameter name)
_SECRET_PARAM = (
    r"(?i)([?&;][^=&\s#]*(?:token|secret|passw|pwd|auth|key|signature|credential|sig)"
    r"[^=&\s#]*=)[^&\s#]+"
)


def redact(text: str) -> str:
    """`text` with URL passwords, http(s) userinfo and secret-looking query values replaced."""
    if "@" in text:
        text = re.sub(_HTTP_USERINFO, r"\1***@", text)
        text = re.sub(_PASSWORD, r"\1\2:***@", text)
    if "=" in text and any(mark in text for mark in "?&;"):
        text = re.sub(_SECRET_PARAM, r"\1***", text)
    return text
