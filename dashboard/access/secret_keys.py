"""Is a signing key safe to use? The one check for every secret Eslabón verifies with.

A key that signs cookies or customer links is only as secret as the least secret place
it was ever written. A copied example file keeps the example's placeholder, and that
placeholder is public (it is in the repository), so anyone could sign a cookie with it.
Length alone does not catch it (the example's placeholder is 61 characters long). So a
key is refused when it is one of the values published in this repository, when it reads
like a placeholder (REPLACE, example, changeme…), or when it is too short or too regular
to be random (few distinct characters, repeats, runs like 0123…). A key made by
`new_secret` always passes.

Pure module (no streamlit): dashboard.access.auth checks the login cookie key and the OIDC
cookie secret with it, dashboard.services.tokens the customer-link secret.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections import Counter

# Every signing value that appears in this repository, its docs or its examples (public,
# so never a secret). tests/dashboard/test_secret_keys.py collects the values written in
# the tracked files and fails if any of them were accepted.
KNOWN_SECRETS: frozenset[str] = frozenset(
    {
        "REPLACE-with-32-or-more-random-characters-(the-CLI-makes-one)",  # auth.example.yaml
        "<32+ random characters>",  # docs/auth.md, the OIDC cookie_secret
        "some_key",  # streamlit-authenticator's default cookie key
        # values once used as literals by the test suite
        "s3cret-for-tests-only-0123456789",
        "another-secret-of-enough-length",
        "from-the-secrets-file-123",
        "seguimiento-secret-0123456789",
        "subscription-secret-0123456789",
        "customer-view-test-secret-0123456789",
        "roles-test-customer-secret-0123456789",
        "oidc-cookie-secret-0123456789abcdef",
    }
)
# Words that mark a value somebody was meant to replace (compared case-insensitively,
# ignoring - _ . and spaces). Five letters or more: a random 43-character key contains
# a given five-letter word with a chance of about one in a million.
PLACEHOLDER_WORDS: tuple[str, ...] = (
    "replace",
    "example",
    "changeme",
    "change-me",
    "placeholder",
    "secret",
    "password",
    "random",
    "characters",
    "insert",
    "dummy",
    "sample",
    "default",
    "eslabon",
    "tests",
    "notsecure",
    "insecure",
)
# Characters that only a template has (a generated key is letters, digits, - and _).
TEMPLATE_CHARACTERS = frozenset(" <>{}[]()…\"'`$\t\n")
MIN_DISTINCT = 10  # a 32-character hex key has about 14
MIN_BITS_PER_CHARACTER = 2.75  # a hex key has about 3.6, token_urlsafe about 4.9
MIN_UNIQUE_TRIGRAMS = 0.8  # share of 3-character windows seen once: repeats fall below
MAX_SEQUENTIAL = 0.3  # share of neighbours one code point apart (abcd…, 0123…)


def _normalised(value: str) -> str:
    return "".join(c for c in value.lower() if c not in "-_. ")


def secret_problem(value: str | None, *, min_length: int) -> str | None:
    """Why `value` must not be used as a signing key, or None when it may.

    The reason names no part of the value (it goes to logs and pages).
    """
    if not value:
        return "it is empty"
    if value in KNOWN_SECRETS or value.strip() in KNOWN_SECRETS:
        return "it is a value published in Eslabón's repository or documentation"
    if len(value) < min_length:
        return f"it is shorter than {min_length} characters"
    if any(c in TEMPLATE_CHARACTERS for c in value):
        return "it contains spaces, quotes or brackets, as a template placeholder does"
    plain = _normalised(value)
    for word in PLACEHOLDER_WORDS:
        if _normalised(word) in plain:
            return f"it contains the placeholder word “{word}”"
    counts = Counter(value)
    distinct_needed = min(MIN_DISTINCT, min_length // 2)
    if len(counts) < distinct_needed:
        return f"it has fewer than {distinct_needed} distinct characters"
    bits = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    if bits < MIN_BITS_PER_CHARACTER:
        return "its characters are too unevenly spread to be random"
    trigrams = Counter(value[i : i + 3] for i in range(len(value) - 2))
    if sum(1 for n in trigrams.values() if n == 1) < MIN_UNIQUE_TRIGRAMS * (len(value) - 2):
        return "it repeats itself"
    steps = sum(1 for a, b in itertools.pairwise(value) if abs(ord(a) - ord(b)) == 1)
    if steps > MAX_SEQUENTIAL * (len(value) - 1):
        return "it runs through consecutive characters (abcd…, 0123…)"
    return None


def new_secret() -> str:
    """A fresh random key (256 bits, URL-safe) that passes `secret_problem`."""
    while True:
        value = secrets.token_urlsafe(32)
        if secret_problem(value, min_length=32) is None:
            return value
