"""Password sign-in, decided on the server: throttled, the same work for every username,
every failure logged; and the re-authentication cookie read without trusting it.

Why not the login form of streamlit-authenticator: it counts failures in the session
(a new tab starts again at zero, so 140 wrong passwords then the right one signed in at
once), it answers an unknown username without running bcrypt (0.87 s against 1.18 s: the
timing tells which usernames exist), it strips spaces from the password (a password set
with them could never be used), and its cookie check raises on a cookie of a removed user
or one signed with another algorithm (a crash page on every visit until the cookie
expires). The app keeps the library for writing and deleting the cookie in the browser;
this module decides who is signed in.

Pure module (no streamlit): the clock is injected so tests can walk through a lockout
without sleeping; the app keeps one `SignInThrottle` per server (dashboard/views/access_gate.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import bcrypt

from dashboard.access import auth

log = logging.getLogger(__name__)

COOKIE_ALGORITHM = "HS256"  # what streamlit-authenticator signs with; nothing else verifies
MAX_COOKIE_LENGTH = 4096
MAX_KEY_LENGTH = 200  # longer usernames / client names are cut before they key the throttle
DEFAULT_BCRYPT_COST = 12  # bcrypt.gensalt()'s, which auth.hash_password uses


@dataclass(frozen=True)
class ThrottlePolicy:
    """After `free_failures` failures in a row, each further failure locks for twice as
    long as the one before, from `base_lock_seconds` up to `max_lock_seconds`. Failures
    are forgotten `forget_after_seconds` after the last one, or at a success."""

    free_failures: int
    base_lock_seconds: float
    max_lock_seconds: float
    forget_after_seconds: float

    def lock_seconds(self, failures: int) -> float:
        """How long the `failures`-th failure in a row locks (0: not yet)."""
        if failures < self.free_failures:
            return 0.0
        return min(
            self.max_lock_seconds, self.base_lock_seconds * 2.0 ** (failures - self.free_failures)
        )


# A person mistypes a few times; a script guesses thousands. 5 failures lock a username for
# 30 s, the next 60 s, 120 s … up to 15 min, so a guesser gets about a hundred tries a day.
USER_POLICY = ThrottlePolicy(5, 30.0, 900.0, 24 * 3600.0)
# One client (an address) may try several usernames, and people behind one proxy or NAT
# share an address: a higher threshold, the same back-off.
CLIENT_POLICY = ThrottlePolicy(20, 30.0, 900.0, 24 * 3600.0)


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class SignInThrottle:
    """Failed sign-ins per username and per client, kept on the server (one per process).

    Unknown usernames are counted exactly like real ones, so a lock says nothing about
    whether a username exists. Thread-safe: every browser session runs in its own thread.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        user_policy: ThrottlePolicy = USER_POLICY,
        client_policy: ThrottlePolicy = CLIENT_POLICY,
        max_entries: int = 50_000,
    ) -> None:
        self._clock = clock
        self._policies = {"user": user_policy, "client": client_policy}
        self._records: dict[tuple[str, str], _Record] = {}
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def _keys(self, username: str, client: str | None) -> list[tuple[str, str]]:
        keys = [("user", username[:MAX_KEY_LENGTH])]
        if client:
            keys.append(("client", client[:MAX_KEY_LENGTH]))
        return keys

    def _current(self, key: tuple[str, str], now: float) -> _Record | None:
        record = self._records.get(key)
        policy = self._policies[key[0]]
        if record is not None and now - record.last_failure > policy.forget_after_seconds:
            del self._records[key]
            return None
        return record

    def wait_seconds(self, username: str, client: str | None) -> float:
        """Seconds before this username from this client may try again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [
                record.locked_until - now
                for key in self._keys(username, client)
                if (record := self._current(key, now)) is not None
            ]
        return max([0.0, *waits])

    def failed(self, username: str, client: str | None) -> None:
        """Count a failure for the username and for the client; lock them when due."""
        now = self._clock()
        with self._lock:
            for key in self._keys(username, client):
                record = self._current(key, now) or _Record()
                record.failures += 1
                record.last_failure = now
                lock = self._policies[key[0]].lock_seconds(record.failures)
                record.locked_until = max(record.locked_until, now + lock)
                self._records[key] = record
            self._prune(now)

    def succeeded(self, username: str) -> None:
        """A right password: that username starts again from zero. The client keeps its
        count, so knowing one password does not buy more guesses at the others."""
        with self._lock:
            self._records.pop(("user", username[:MAX_KEY_LENGTH]), None)

    def clear(self) -> None:
        """Forget everything (tests; a restart does the same)."""
        with self._lock:
            self._records.clear()

    def _prune(self, now: float) -> None:
        """Keep memory bounded against a flood of made-up usernames: drop what is no longer
        locked, then the oldest."""
        if len(self._records) <= self._max_entries:
            return
        for key in [k for k, r in self._records.items() if r.locked_until <= now]:
            del self._records[key]
        if len(self._records) > self._max_entries:
            oldest = sorted(self._records, key=lambda k: self._records[k].last_failure)
            for key in oldest[: len(self._records) - self._max_entries]:
                del self._records[key]


# --- one sign-in attempt -------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    """What one attempt gave: the user when the password was right, else why not."""

    user: auth.User | None
    reason: str  # "ok", "wrong_password", "unknown_user" or "locked"
    retry_after: float = 0.0


@cache
def dummy_hash(cost: int) -> str:
    """A bcrypt hash of a random password nobody knows, at `cost`: what an unknown
    username's password is checked against, so it takes as long as a real one."""
    salt = bcrypt.gensalt(rounds=cost)
    return bcrypt.hashpw(bcrypt.gensalt(), salt).decode("ascii")


def bcrypt_cost(config: auth.AuthConfig) -> int:
    """The cost of the file's hashes (the highest), so the dummy check costs the same."""
    costs = []
    for user in config.users.values():
        try:
            costs.append(int(user.password_hash.split("$")[2]))
        except (IndexError, ValueError):
            continue
    return max(costs, default=DEFAULT_BCRYPT_COST)


def normalised_username(typed: str | None) -> str:
    """What a typed username means: usernames are lower case without surrounding spaces
    (auth._user refuses anything else in the file)."""
    return str(typed or "").strip().lower()


def for_log(text: str | None) -> str:
    """A typed value as one safe log token: no line breaks, no control characters, short."""
    return ascii(str(text or ""))[:80]


def attempt_sign_in(
    config: auth.AuthConfig,
    username: str | None,
    password: str | None,
    client: str | None,
    throttle: SignInThrottle,
) -> SignInResult:
    """Check one sign-in: refused without looking while the username or client is locked;
    otherwise the password (exactly as typed: spaces are part of it) is checked with
    bcrypt against the user's hash, or a dummy hash of the same cost for an unknown user.
    Every failure is counted and logged (username, client, reason; never the password).
    """
    name = normalised_username(username)
    wait = throttle.wait_seconds(name, client)
    if wait > 0:
        log.warning(
            "sign-in refused: user=%s client=%s reason=locked retry_after=%.0fs",
            for_log(name), for_log(client), wait,
        )  # fmt: skip
        return SignInResult(None, "locked", wait)
    user = config.users.get(name)
    dummy = dummy_hash(bcrypt_cost(config))  # made before the branch: same time for both
    hashed = user.password_hash if user is not None else dummy
    matches = auth.verify_password(str(password or ""), hashed)
    if matches and user is not None:
        throttle.succeeded(name)
        log.info("signed in: user=%s client=%s", for_log(name), for_log(client))
        return SignInResult(user, "ok")
    reason = "wrong_password" if user is not None else "unknown_user"
    throttle.failed(name, client)
    log.warning(
        "sign-in refused: user=%s client=%s reason=%s", for_log(name), for_log(client), reason
    )
    return SignInResult(None, reason, throttle.wait_seconds(name, client))


# --- the re-authentication cookie ----------------------------------------------------------


def cookie_username(
    token: str | None, config: auth.AuthConfig, now: float
) -> tuple[str | None, str]:
    """(username, "ok") when `token` is a cookie this server signed, unexpired, for a user
    still in the file; else (None, why). Never raises, whatever the browser sends: a
    removed user, another algorithm, a forged or malformed token get the login form.

    `now` is Unix time (the cookie's `exp_date` is).
    """
    if not token:
        return None, "no_cookie"
    if config.cookie_expiry_days <= 0 or auth.cookie_key_problem(config.cookie_key):
        return None, "cookies_off"
    if len(token) > MAX_COOKIE_LENGTH:
        return None, "malformed"
    import jwt  # here, not at the top: 0.09 s that a server without cookies never needs

    try:
        data = jwt.decode(token, config.cookie_key, algorithms=[COOKIE_ALGORITHM])
    except jwt.InvalidAlgorithmError:
        return None, "other_algorithm"
    except jwt.InvalidSignatureError:
        return None, "bad_signature"
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None, "malformed"
    if not isinstance(data, dict):
        return None, "malformed"
    username, expires = data.get("username"), data.get("exp_date")
    if not isinstance(username, str) or isinstance(expires, bool):
        return None, "malformed"
    if not isinstance(expires, int | float):
        return None, "malformed"
    if expires <= now:
        return None, "expired"
    if expires > now + config.cookie_expiry_days * 86400 + 300:
        return None, "outlives_expiry_days"  # signed for longer than the file allows
    name = normalised_username(username)
    if name not in config.users:
        return None, "unknown_user"  # removed from the file since
    return name, "ok"
