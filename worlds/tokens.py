"""Token estimates for budgets. Close enough for trimming; the inspector labels them estimates."""

from __future__ import annotations

import re
from functools import lru_cache

_PIECES = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@lru_cache(maxsize=4096)  # a prompt's budget pass asks about the same sections many times
def estimate(text: str) -> int:
    """~1.3 tokens per word plus punctuation: matches BPE tokenizers within ~15% on prose."""
    if not text:
        return 0
    words = 0
    punct = 0
    for piece in _PIECES.findall(text):
        if piece[0].isalnum() or piece[0] == "_":
            words += 1 + len(piece) // 8
        else:
            punct += 1
    return int(words * 1.3 + punct * 0.8) + 1
