"""Secrets out of anything shown or recorded: URL credentials and token-like query values.

Applied to every MlprojError message and hint, the crash log and the recorded command line, so
a tracking URI such as `http://user:pw@host/?token=...` is never printed verbatim.
"""

from __future__ import annotations

import re

# http(s)://anything@ : all of the userinfo is a secret there (`https://<token>@host`)
_HTTP_USERINFO = re.compile(r"(?i)\b(https?://)[^/@\s?#]+@")
# other schemes keep the user name (`ssh://git@host`) but never a password
_PASSWORD = re.compile(r"(://)([^/@\s:?#]+):[^/@\s?#]*@")
# ?token=... &api_key=... &X-Amz-Signature=... (name matched anywhere in the parameter name)
_SECRET_PARAM = re.compile(
    r"(?i)([?&;][^=&\s#]*(?:token|secret|passw|pwd|auth|key|signature|credential|sig)"
    r"[^=&\s#]*=)[^&\s#]+"
)


def redact(text: str) -> str:
    """`text` with URL passwords, http(s) userinfo and secret-looking query values replaced."""
    text = _HTTP_USERINFO.sub(r"\1***@", text)
    text = _PASSWORD.sub(r"\1\2:***@", text)
    return _SECRET_PARAM.sub(r"\1***", text)
