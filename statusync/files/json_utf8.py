"""JSON text in UTF-8, as the state and the status catalog write it.

JSON reads half of a surrogate pair written alone ("\\ud800", in a file edited by hand) as a lone
surrogate, which UTF-8 cannot hold: it is written back as that escape, which reads as the same
text. Only inside a string can there be one (keys and punctuation are ASCII), so the escape
always lands where JSON reads it.
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(text: str) -> bytes:
    """`text`, JSON made with ensure_ascii=False, in UTF-8, a lone surrogate as its escape."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", text).encode()
