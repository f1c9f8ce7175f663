"""Who may do what: roles, the permission table, the auth config file, password hashes.

Pure module (no streamlit): the dashboard's views (access_gate.py, sign_in.py) ask it for
a role and check every page and every write against `PERMISSIONS`; the user CLI
(`python -m dashboard.access`) writes the same file. Nothing here trusts the browser:
a role is looked up on the server from the config file each time it is needed, so a
user removed or demoted in the file loses the rights at their next click.

The config file (`.streamlit/auth.yaml`, or ESLABON_AUTH_FILE; git-ignored) uses
streamlit-authenticator's layout so that library can show the login form and keep the
re-authentication cookie:

    credentials:
      usernames:
        marta: {name: Marta, email: marta@example.com, password: "$2b$12$…", roles: [editor]}
    cookie: {name: eslabon_auth, key: "<32+ random characters>", expiry_days: 1}
    oidc:                       # roles for people who sign in with st.login (OIDC)
      emails: {ana@example.com: admin}
      domains: {example.com: viewer}

Row-level access: a password user may carry `scope: {stages: [...], customers: [...]}`,
and an OIDC entry (e-mail, domain, or `oidc.groups` for the provider's `groups` claim)
may be written `{role: viewer, stages: [...], customers: [...]}` instead of a bare role.
The scope becomes the user's `RowScope`, which every metric ANDs into its SQL
(docs/security.md, "Row-level access").

No file and no `[auth]` section in .streamlit/secrets.toml means single-user mode:
whoever reaches the port is admin, which is allowed only while the server listens on a
loopback address (see `single_user_allowed`).
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import bcrypt
import yaml

from dashboard.access.secret_keys import new_secret, secret_problem
from dashboard.metrics.filters import EVERYTHING, RowScope
from etl.language import in_language
from etl.settings import PROJECT_ROOT

# Lowest to highest: each role can do everything the ones before it can.
ROLES: tuple[str, ...] = ("viewer", "editor", "admin")
# action -> the lowest role allowed to do it. Unknown actions are refused (fail closed).
PERMISSIONS: Mapping[str, str] = MappingProxyType(
    {
        "read": "viewer",  # every internal page, exports, customer links
        "set_targets": "editor",  # Metas: new target, CSV import
        "record_notices": "editor",  # Avisos: mark as notified
        "record_actions": "editor",  # Revisión: add, close, reopen action items
        "manage_subscriptions": "editor",  # Suscripciones: add, edit, remove, test-send
        "set_standards": "editor",  # Estándares: new policy version, standards file import
        "load_data": "admin",  # Datos (uploads, loads, the sample) and the empty state's load
    }
)
# page (url path) -> the action needed to open it; pages not listed need "read".
PAGE_ACTIONS: Mapping[str, str] = MappingProxyType({"datos": "load_data"})

AUTH_FILE_ENV = "ESLABON_AUTH_FILE"
DEFAULT_AUTH_FILE = PROJECT_ROOT / ".streamlit" / "auth.yaml"
DEFAULT_COOKIE_NAME = "eslabon_auth"
DEFAULT_COOKIE_DAYS = 1.0
MIN_COOKIE_KEY = 32
MIN_PASSWORD = 10
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


class AuthConfigError(ValueError):
    """The auth file is unreadable or malformed; the message names the file and the key."""


class UnsafeKeyError(AuthConfigError):
    """A signing key is published or weak: nobody may sign in until it is replaced. Keeps
    the file's name and the key's name (never its value) for the page to show."""

    def __init__(self, message: str, file_name: str, key: str) -> None:
        super().__init__(message)
        self.file_name = file_name
        self.key = key


def role_rank(role: str | None) -> int:
    """Position of `role` in ROLES; -1 for no role or an unknown one."""
    return ROLES.index(role) if role in ROLES else -1


def role_allows(role: str | None, action: str) -> bool:
    """True when `role` may do `action` (False for no role, unknown role or action)."""
    needed = PERMISSIONS.get(action)
    return needed is not None and role_rank(role) >= role_rank(needed) >= 0


# Pages whose content spans every row whatever the filter (the load history and rejected
# rows; every subscription's recipient and filter, the alert rules, the delivery log):
# closed to a user with a row scope, who could otherwise read or mail out other rows.
ALL_ROWS_PAGES: frozenset[str] = frozenset({"datos", "suscripciones"})


def page_open_to(role: str | None, scope: RowScope, page: str) -> bool:
    """May someone with `role` and row `scope` open `page`? (page_allowed, and the
    all-rows pages only without a scope)."""
    if page in ALL_ROWS_PAGES and not scope.unrestricted:
        return False
    return page_allowed(role, page)


def page_action(page: str) -> str:
    """The action a page needs (see PAGE_ACTIONS)."""
    return PAGE_ACTIONS.get(page, "read")


def page_allowed(role: str | None, page: str) -> bool:
    """True when `role` may open the page with url path `page`."""
    return role_allows(role, page_action(page))


def visible_pages(role: str | None, pages: Iterable[str]) -> tuple[str, ...]:
    """The pages of `pages` (in order) that `role` may open: what navigation lists."""
    return tuple(p for p in pages if page_allowed(role, p))


def highest_role(roles: Iterable[str]) -> str | None:
    """The strongest of `roles` (a user listed with several gets the most rights)."""
    known = [r for r in roles if r in ROLES]
    return max(known, key=role_rank) if known else None


# --- passwords ---------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A bcrypt hash of `password` (the format streamlit-authenticator checks)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def is_password_hash(value: object) -> bool:
    """True for a bcrypt hash; plain text passwords in the file are refused, not hashed."""
    return isinstance(value, str) and value.startswith(BCRYPT_PREFIXES) and len(value) == 60


def verify_password(password: str, hashed: str) -> bool:
    """True when `password` matches the bcrypt `hashed`; False for any malformed hash."""
    if not is_password_hash(hashed):
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except ValueError:
        return False


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable for a new user, or None.

    Spaces at either end are refused rather than kept: browsers, password managers and
    copy-paste drop or add them unseen, so such a password would fail at sign-in for
    reasons nobody could see. Sign-in checks the password exactly as typed.
    """
    if password != password.strip():
        return "the password must not start or end with a space (or tab); spaces inside it are fine"
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if len(password.encode("utf-8")) > 72:
        return "the password must have at most 72 bytes (bcrypt ignores the rest)"
    return None


# --- the config file -----------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """One password user as the file describes them (the hash, never a password)."""

    username: str
    name: str
    email: str
    password_hash: str
    role: str
    scope: RowScope = EVERYTHING  # the rows they may see (EVERYTHING: no restriction)


@dataclass(frozen=True)
class AuthConfig:
    """Everything the app needs from the auth file. `exists` is False when there is none."""

    path: Path
    exists: bool = False
    users: Mapping[str, User] = field(default_factory=dict)
    cookie_name: str = DEFAULT_COOKIE_NAME
    cookie_key: str = ""
    cookie_expiry_days: float = DEFAULT_COOKIE_DAYS
    oidc_emails: Mapping[str, str] = field(default_factory=dict)
    oidc_domains: Mapping[str, str] = field(default_factory=dict)
    # row scopes of OIDC entries (key as in the role tables); groups: name -> role
    oidc_email_scopes: Mapping[str, RowScope] = field(default_factory=dict)
    oidc_domain_scopes: Mapping[str, RowScope] = field(default_factory=dict)
    oidc_groups: Mapping[str, str] = field(default_factory=dict)
    oidc_group_scopes: Mapping[str, RowScope] = field(default_factory=dict)

    @property
    def has_passwords(self) -> bool:
        """True when at least one password user is configured."""
        return bool(self.users)


def auth_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The auth file: ESLABON_AUTH_FILE, else .streamlit/auth.yaml of the project."""
    env = os.environ if environ is None else environ
    value = env.get(AUTH_FILE_ENV)
    return Path(value) if value else DEFAULT_AUTH_FILE


def read_raw_config(path: Path) -> dict[str, Any]:
    """The file as plain data ({} when it does not exist); AuthConfigError if unreadable."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AuthConfigError(f"{path}: cannot be read as YAML ({reason})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AuthConfigError(f"{path}: expected a mapping at the top level")
    return data


def _mapping(value: object, path: Path, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AuthConfigError(f"{path}: {key} must be a mapping")
    return value


def _user(username: object, entry: object, path: Path) -> User:
    key = f"credentials.usernames.{username}"
    if not isinstance(username, str) or not username.strip():
        raise AuthConfigError(f"{path}: {key}: a username must be non-empty text")
    if username != username.strip().lower():
        raise AuthConfigError(f"{path}: {key}: usernames are lower case without spaces")
    data = _mapping(entry, path, key)
    password = data.get("password")
    if not is_password_hash(password):
        raise AuthConfigError(
            f"{path}: {key}.password: not a bcrypt hash (set it with "
            f"`python -m dashboard.access add {username} --role ROLE`)"
        )
    roles = data.get("roles", [])
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise AuthConfigError(f"{path}: {key}.roles: one of {', '.join(ROLES)}")
    role = str(highest_role(roles))
    return User(
        username=username,
        name=str(data.get("name") or username),
        email=str(data.get("email") or ""),
        password_hash=str(password),
        role=role,
        scope=parse_scope(data.get("scope"), path, f"{key}.scope", role),
    )


SCOPE_KEYS: tuple[str, ...] = ("stages", "customers")


def parse_scope(value: object, path: Path, key: str, role: str | None = None) -> RowScope:
    """A RowScope from `{stages: [...], customers: [...]}` (EVERYTHING when absent).

    Refused, naming the key: unknown keys (a typo must not silently mean "all rows"), an
    empty list (write no key instead), non-text names, and a scope on an admin (admins
    load data, whose history shows every row, so they cannot be scoped).
    """
    if value is None:
        return EVERYTHING
    data = _mapping(value, path, key)
    unknown = sorted(str(k) for k in data if k not in SCOPE_KEYS)
    if unknown:
        raise AuthConfigError(
            f"{path}: {key}: unknown key {unknown[0]!r} (use {' and/or '.join(SCOPE_KEYS)})"
        )
    dims: dict[str, tuple[str, ...]] = {}
    for dim in SCOPE_KEYS:
        if dim not in data:
            continue
        names = data[dim]
        if isinstance(names, str):
            names = [names]
        if (
            not isinstance(names, list)
            or not names
            or any(not isinstance(n, str) or not n.strip() for n in names)
        ):
            raise AuthConfigError(f"{path}: {key}.{dim}: a non-empty list of names")
        dims[dim] = tuple(n.strip() for n in names)
    if not dims:
        raise AuthConfigError(f"{path}: {key}: list stages and/or customers, or remove it")
    if role == "admin":
        raise AuthConfigError(
            f"{path}: {key}: an admin sees every row; give a scoped user the viewer or editor role"
        )
    return RowScope(stages=dims.get("stages"), customers=dims.get("customers"))


def _role_entry(entry: object, path: Path, key: str) -> tuple[str, RowScope]:
    """An OIDC table value: a bare role, or `{role: ROLE, stages: [...], customers: [...]}`."""
    if isinstance(entry, dict):
        role = entry.get("role")
        if role not in ROLES:
            raise AuthConfigError(f"{path}: {key}.role: one of {', '.join(ROLES)}")
        rest = {k: v for k, v in entry.items() if k != "role"}
        return str(role), parse_scope(rest or None, path, key, str(role))
    if entry not in ROLES:
        raise AuthConfigError(f"{path}: {key}: one of {', '.join(ROLES)}")
    return str(entry), EVERYTHING


def _role_scope_tables(
    value: object, path: Path, key: str
) -> tuple[dict[str, str], dict[str, RowScope]]:
    """An OIDC table as (name -> role, name -> scope); names are compared lower case."""
    table = _mapping(value, path, key)
    roles: dict[str, str] = {}
    scopes: dict[str, RowScope] = {}
    for name, entry in table.items():
        role, scope = _role_entry(entry, path, f"{key}.{name}")
        roles[str(name).strip().lower()] = role
        scopes[str(name).strip().lower()] = scope
    return roles, scopes


def _role_table(value: object, path: Path, key: str) -> dict[str, str]:
    return _role_scope_tables(value, path, key)[0]


def parse_auth_config(data: Mapping[str, Any], path: Path) -> AuthConfig:
    """An AuthConfig from the file's data; AuthConfigError naming the bad key."""
    credentials = _mapping(data.get("credentials"), path, "credentials")
    usernames = _mapping(credentials.get("usernames"), path, "credentials.usernames")
    users = {str(u): _user(u, entry, path) for u, entry in usernames.items()}
    cookie = _mapping(data.get("cookie"), path, "cookie")
    try:
        days = float(cookie.get("expiry_days", DEFAULT_COOKIE_DAYS))
    except (TypeError, ValueError) as exc:
        raise AuthConfigError(f"{path}: cookie.expiry_days must be a number") from exc
    if days < 0:
        raise AuthConfigError(f"{path}: cookie.expiry_days must be 0 or more")
    key = str(cookie.get("key") or "")
    if key or (users and days > 0):
        problem = cookie_key_problem(key)
        if problem:
            raise UnsafeKeyError(
                f"{path}: cookie.key cannot sign the login cookie: {problem}. Replace it "
                f"with a random secret of at least {MIN_COOKIE_KEY} characters "
                "(`python -m dashboard.access new-key` writes one; or remove it and set "
                "cookie.expiry_days: 0 to sign in again on every visit)",
                path.name,
                "cookie.key",
            )
    oidc = _mapping(data.get("oidc"), path, "oidc")
    return AuthConfig(
        path=path,
        exists=True,
        users=MappingProxyType(users),
        cookie_name=str(cookie.get("name") or DEFAULT_COOKIE_NAME),
        cookie_key=key,
        cookie_expiry_days=days,
        oidc_emails=MappingProxyType(_role_table(oidc.get("emails"), path, "oidc.emails")),
        oidc_domains=MappingProxyType(_role_table(oidc.get("domains"), path, "oidc.domains")),
        oidc_email_scopes=MappingProxyType(
            _role_scope_tables(oidc.get("emails"), path, "oidc.emails")[1]
        ),
        oidc_domain_scopes=MappingProxyType(
            _role_scope_tables(oidc.get("domains"), path, "oidc.domains")[1]
        ),
        oidc_groups=MappingProxyType(_role_table(oidc.get("groups"), path, "oidc.groups")),
        oidc_group_scopes=MappingProxyType(
            _role_scope_tables(oidc.get("groups"), path, "oidc.groups")[1]
        ),
    )


def cookie_key_problem(key: str | None) -> str | None:
    """Why `key` must not sign login cookies (published, placeholder, short, not
    random), or None. Whoever knows the key can sign a cookie for any user, admin too."""
    return secret_problem(key, min_length=MIN_COOKIE_KEY)


def oidc_cookie_secret_problem(section: Mapping[str, Any] | None) -> str | None:
    """Why the `cookie_secret` of secrets.toml's [auth] section (it signs st.login's
    identity cookie) must not be used, naming the key; None when it may or there is
    no [auth] section."""
    if not section:
        return None
    problem = secret_problem(str(section.get("cookie_secret") or ""), min_length=MIN_COOKIE_KEY)
    return f"[auth] cookie_secret: {problem}" if problem else None


def load_auth_config(path: Path) -> AuthConfig:
    """The auth config at `path`; an empty one (exists=False) when there is no file."""
    if not path.exists():
        return AuthConfig(path=path)
    return parse_auth_config(read_raw_config(path), path)


def role_for_user(config: AuthConfig, username: str | None) -> str | None:
    """The role of a password user, None when they are not (or no longer) in the file."""
    user = config.users.get(str(username or "").strip().lower())
    return user.role if user else None


def role_for_email(
    config: AuthConfig, email: str | None, *, verified: bool | None = None
) -> str | None:
    """The role of someone signed in with OIDC: their exact e-mail first, else their
    domain (exact, no subdomains). An e-mail the provider says is unverified gets none.
    """
    if not email or verified is False:
        return None
    address = str(email).strip().lower()
    if address in config.oidc_emails:
        return config.oidc_emails[address]
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return None
    return config.oidc_domains.get(domain)


def scope_for_user(config: AuthConfig, username: str | None) -> RowScope:
    """The rows a password user may see. Someone not (or no longer) in the file gets
    none at all (fail closed), although they also get no role."""
    user = config.users.get(str(username or "").strip().lower())
    return user.scope if user else RowScope(stages=(), customers=())


def oidc_access(
    config: AuthConfig,
    email: str | None,
    *,
    verified: bool | None = None,
    groups: Iterable[str] = (),
) -> tuple[str | None, RowScope]:
    """Role and row scope of someone signed in with OIDC: their exact e-mail first, then
    the first of their groups (in the file's order) listed in `oidc.groups`, then their
    domain. An unverified e-mail gets nothing; no match gets no role and no rows."""
    nothing = RowScope(stages=(), customers=())
    if not email or verified is False:
        return None, nothing
    address = str(email).strip().lower()
    if address in config.oidc_emails:
        return config.oidc_emails[address], config.oidc_email_scopes.get(address, EVERYTHING)
    member = {str(g).strip().lower() for g in groups}
    for group, role in config.oidc_groups.items():
        if group in member:
            return role, config.oidc_group_scopes.get(group, EVERYTHING)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or domain not in config.oidc_domains:
        return None, nothing
    return config.oidc_domains[domain], config.oidc_domain_scopes.get(domain, EVERYTHING)


def authenticator_credentials(config: AuthConfig) -> dict[str, Any]:
    """The `credentials` mapping streamlit-authenticator wants (a fresh copy each time:
    the library writes counters into it)."""
    return {
        "usernames": {
            u.username: {
                "name": u.name,
                "email": u.email,
                "password": u.password_hash,
                "roles": [u.role],
            }
            for u in config.users.values()
        }
    }


# --- single-user mode ----------------------------------------------------------------------


def is_loopback(address: str | None) -> bool:
    """True when a server bound to `address` is reachable from this machine only.

    An empty address is not loopback: Streamlit then listens on every interface.
    """
    value = (address or "").strip().strip("[]")
    if value.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(value).is_loopback
    except ValueError:
        return False


def single_user_allowed(address: str | None) -> bool:
    """Single-user mode (everyone is admin) only while nobody else can connect."""
    return is_loopback(address)


# --- writing users (the CLI) ----------------------------------------------------------------


def with_user(
    data: Mapping[str, Any],
    username: str,
    role: str,
    password_hash: str,
    *,
    name: str | None = None,
    email: str | None = None,
    scope: RowScope | None = None,
) -> dict[str, Any]:
    """A copy of the file's data with `username` added or replaced; a cookie key is made
    the first time, and a known or weak one (the example's placeholder) is replaced (the
    file is then ready for the login form). `scope` None keeps the user's scope as it was;
    EVERYTHING removes it."""
    typed = username.strip()
    username = typed.lower()
    if not username or any(c.isspace() for c in username):
        raise AuthConfigError("a username must be non-empty and have no spaces")
    if role not in ROLES:
        raise AuthConfigError(f"role must be one of {', '.join(ROLES)}")
    if not is_password_hash(password_hash):
        raise AuthConfigError("not a bcrypt hash")
    out = dict(data)
    credentials = dict(out.get("credentials") or {})
    usernames = dict(credentials.get("usernames") or {})
    previous = dict(usernames.get(username) or {})
    usernames[username] = {
        "name": name or previous.get("name") or typed,
        "email": email if email is not None else previous.get("email", ""),
        "password": password_hash,
        "roles": [role],
    }
    kept = previous.get("scope") if scope is None else scope_entry(scope)
    if kept:
        usernames[username]["scope"] = kept
    credentials["usernames"] = usernames
    out["credentials"] = credentials
    cookie = dict(out.get("cookie") or {})
    cookie.setdefault("name", DEFAULT_COOKIE_NAME)
    cookie.setdefault("expiry_days", DEFAULT_COOKIE_DAYS)
    if cookie_key_problem(str(cookie.get("key") or "")):  # none yet, or a published one
        cookie["key"] = new_secret()
    out["cookie"] = cookie
    return out


def scope_entry(scope: RowScope) -> dict[str, list[str]] | None:
    """A RowScope as the file writes it (None for EVERYTHING: no `scope` key)."""
    entry = {dim: list(names) for dim in SCOPE_KEYS if (names := getattr(scope, dim)) is not None}
    return entry or None


def with_new_cookie_key(
    data: Mapping[str, Any], *, only_if_unsafe: bool
) -> tuple[dict[str, Any], bool]:
    """A copy of the file's data with a fresh random cookie.key (always, or only when the
    present one is missing, published or weak), and whether the key changed. A new key
    signs everybody out: every cookie signed with the old one stops verifying."""
    out = dict(data)
    cookie = dict(out.get("cookie") or {})
    if only_if_unsafe and not cookie_key_problem(str(cookie.get("key") or "")):
        return out, False
    cookie.setdefault("name", DEFAULT_COOKIE_NAME)
    cookie.setdefault("expiry_days", DEFAULT_COOKIE_DAYS)
    cookie["key"] = new_secret()
    out["cookie"] = cookie
    return out, True


def without_user(data: Mapping[str, Any], username: str) -> tuple[dict[str, Any], bool]:
    """A copy of the file's data without `username`, and whether they were there."""
    out = dict(data)
    credentials = dict(out.get("credentials") or {})
    usernames = dict(credentials.get("usernames") or {})
    found = usernames.pop(username.strip().lower(), None) is not None
    credentials["usernames"] = usernames
    out["credentials"] = credentials
    return out, found


def write_raw_config(path: Path, data: Mapping[str, Any]) -> None:
    """Write the file atomically, readable by its owner only (it holds hashes and the
    cookie key), after checking the result parses."""
    parse_auth_config(data, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Eslabón users and roles. Keep private (git-ignored). See docs/security.md.\n"
    text += yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".auth-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- words shown around the login (ES, EN) ----------------------------------------------------

TEXTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "login_title": ("Eslabón · Acceso", "Eslabón · Sign in"),
        "login_form": ("Iniciar sesión", "Sign in"),
        "login_user": ("Usuario", "Username"),
        "login_password": ("Contraseña", "Password"),
        "login_button": ("Entrar", "Sign in"),
        "login_failed": ("Usuario o contraseña incorrectos.", "Wrong username or password."),
        "login_locked": (
            "Demasiados intentos fallidos. Vuelva a intentarlo dentro de {minutes} min.",
            "Too many failed attempts. Try again in {minutes} min.",
        ),
        "login_oidc": ("Entrar con {provider}", "Sign in with {provider}"),
        "login_oidc_default": (
            "Entrar con la cuenta de la empresa",
            "Sign in with your company account",
        ),
        "login_no_role": (
            "Ha iniciado sesión como {who}, pero esa cuenta no tiene acceso a Eslabón. "
            "Pida acceso a un administrador.",
            "You are signed in as {who}, but that account has no access to Eslabón. "
            "Ask an administrator for access.",
        ),
        "logout": ("Cerrar sesión", "Sign out"),
        "signed_in_as": ("Sesión: **{who}** · {role}", "Signed in: **{who}** · {role}"),
        "role_viewer": ("lectura", "viewer"),
        "role_editor": ("edición", "editor"),
        "role_admin": ("administración", "admin"),
        "not_allowed": (
            "No tiene permiso para esto ({action}). Pida a un administrador el rol adecuado.",
            "You are not allowed to do this ({action}). Ask an administrator for the right role.",
        ),
        "single_user": (
            "Modo de un solo usuario: cualquiera que llegue al puerto de esta máquina es "
            "administrador. Configure usuarios para compartirlo "
            "(`python -m dashboard.access add NOMBRE --role editor`).",
            "Single-user mode: anyone who can reach this machine's port is admin; "
            "configure users to share it "
            "(`python -m dashboard.access add NAME --role editor`).",
        ),
        "single_user_refused": (
            "Eslabón no tiene usuarios configurados y el servidor escucha en «{address}», "
            "no solo en esta máquina. Configure usuarios (`python -m dashboard.access add "
            'NOMBRE --role admin`) o ejecútelo con `server.address = "127.0.0.1"`.',
            "Eslabón has no users configured and the server listens on “{address}”, not on "
            "this machine only. Configure users (`python -m dashboard.access add NAME "
            '--role admin`) or run it with `server.address = "127.0.0.1"`.',
        ),
        "config_unsafe_key": (
            "La clave «{name}» de {file} es un valor publicado en la documentación o es "
            "débil: nadie puede entrar hasta sustituirla por una aleatoria. Detalle y "
            "cómo hacerlo en el registro del servidor.",
            "The key “{name}” in {file} is a value published in the documentation or a weak "
            "one: nobody can sign in until it is replaced by a random one. Details and how "
            "to do it are in the server log.",
        ),
        "config_broken": (
            "La configuración de acceso no es válida; nadie puede entrar hasta corregirla. "
            "Detalle en el registro del servidor.",
            "The access configuration is not valid; nobody can sign in until it is fixed. "
            "Details are in the server log.",
        ),
    }
)


def auth_text(key: str, lang: str, **values: object) -> str:
    """A login / role message in Spanish (default) or English."""
    text = in_language(TEXTS[key], lang)
    return text.format(**values) if values else text
