"""What may be printed: `mask_secrets` (credentials) and `printable` (controls).

Credentials never reach the screen, a log line or a file.

Every text that may hold a database URL (the title, error messages, backup headers,
CLI output) goes through `mask_secrets`. It works on raw text, not on a parsed URL,
so it also masks URLs that a URL parser gets wrong:

- the userinfo password: `postgresql://u:s3cret@host/db` -> `postgresql://u:***@host/db`,
  also when the password holds `@`, `/`, `?` or `:` (`u:p@ss@host` masks `p@ss`: the
  authority ends at the last `@` before a space);
- the `password`, `passfile` and `sslpassword` parameters, in a URL's query
  (`?password=s3cret`, `&passfile=/home/u/.pgpass`) or in libpq key=value text
  (`host=h password=s3cret`), quoted values included.

Masking never raises and leaves text without credentials unchanged.

`printable` shows control characters (ESC, other C0/C1 controls, bidi overrides)
as escapes (`\\x1b`, `\\u202e`), for one-line messages on a terminal.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@ -- the password runs to the LAST "@" of the token, so a
# password holding "@" (or "/", "?", ":") is masked whole.
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:@/?#]*):(?P<password>[^\s]*)@(?=[^\s@]*(?:\s|$))"
)
_PARAM = re.compile(
    r"(?P<head>(?<![A-Za-z0-9_])(?:password|passfile|sslpassword)\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^&\s#;,)]*)",
    re.IGNORECASE,
)


# The characters strip_controls removes (session_tui/data/validation.py).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with credentials masked and control characters shown as escapes: a
    message that is safe to print on a terminal and stays one line."""
    return _CONTROL.sub(_escape, mask_secrets(text))


def mask_secrets(text: str) -> str:
    """`text` with every credential replaced by `***` (see the module docstring)."""
    if not text:
        return text
    masked = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    return _PARAM.sub(lambda m: f"{m['head']}{MASK}" if m["value"] else m[0], masked)
