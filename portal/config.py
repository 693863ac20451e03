"""Configuration read from the environment (see docs/API.md and README.md)."""
import base64
import binascii
import hashlib
import hmac
import os
import re
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "development-only-secret-key-do-not-use"  # nosec B105 # the development default; production refuses it (below)


class ConfigError(RuntimeError):
    """Raised when the environment cannot run the portal safely."""


class Config:
    PORTAL_ENV = "development"
    SECRET_KEY = DEV_SECRET_KEY
    PORTAL_DATA_KEY = None
    # The keys that sign the audit checkpoints (audit/checkpoints.py), "id:base64secret" separated
    # by commas: the first signs, every one verifies. Never stored in the database.
    AUDIT_CHECKPOINT_KEY = None
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{ROOT / 'instance' / 'portal.db'}"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # SQLite (the embedded default): how long a writer waits for the write lock before failing.
    # WAL and BEGIN IMMEDIATE for writers are set up in extensions.py (README, "SQLite").
    SQLITE_BUSY_TIMEOUT = 30.0
    REDIS_URL = None
    UPLOAD_DIR = str(ROOT / "instance" / "uploads")
    # Where the public site is reached, for the links stored in open-data releases (which never
    # change once published); None → the publishing request's host.
    PUBLIC_BASE_URL = None
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024

    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Failed sign-ins allowed per window (accounts/services.py _throttles): per (username, address)
    # pair, the short limit, so a stranger cannot lock a user out from another address; per
    # username across all addresses, a slower ceiling against a guess spread over many addresses;
    # per address across all usernames.
    LOGIN_THROTTLE_PAIR = "5 per 15 minutes"
    LOGIN_THROTTLE_USERNAME = "100 per hour"
    LOGIN_THROTTLE_ADDR = "20 per 15 minutes"
    API_TOKEN_LIFETIME = timedelta(hours=12)
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "portal-limits"

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "portal" / "translations")
    LANGUAGES = ("zh_CN", "en")

    WTF_CSRF_TIME_LIMIT = None
    JOB_QUEUE = "portal"
    # The queue of the short batched jobs (jobs/queue.py enqueue_batched), served by
    # `flask --app wsgi worker --short` (and, after it, by every plain worker); None → JOB_QUEUE + "-short".
    SHORT_JOB_QUEUE = None
    # A batch job waits this long before taking its items, so that the check-outs arriving
    # meanwhile are judged by the same job (the set path costs per job, then little per visit).
    BATCH_WINDOW_SECONDS = float(os.environ.get("BATCH_WINDOW_SECONDS", "0.5"))
    # The in-process scheduler of periodic jobs without Redis (portal/jobs/schedule.py): None →
    # on in development outside tests, off otherwise; True/False force it (never with Redis).
    INLINE_SCHEDULER = None
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (client address
    # for throttling, https for Secure cookies and HSTS).
    PROXY_HOPS = 0
    TESTING = False


def config_from_env(env=os.environ, **overrides):
    """Build the configuration dict, refusing unsafe production settings."""
    cfg = {k: v for k, v in vars(Config).items() if k.isupper()}
    cfg["PORTAL_ENV"] = env.get("PORTAL_ENV", "development")
    if cfg["PORTAL_ENV"] not in ("development", "production"):
        raise ConfigError(f"PORTAL_ENV must be 'development' or 'production', not {cfg['PORTAL_ENV']!r}")
    for key in ("SECRET_KEY", "PORTAL_DATA_KEY", "AUDIT_CHECKPOINT_KEY", "REDIS_URL", "UPLOAD_DIR", "PUBLIC_BASE_URL"):
        if env.get(key):
            cfg[key] = env[key]
    if env.get("PORTAL_INLINE_SCHEDULER"):
        cfg["INLINE_SCHEDULER"] = env["PORTAL_INLINE_SCHEDULER"].lower() in ("1", "true", "yes", "on")
    if env.get("SQLITE_BUSY_TIMEOUT"):
        cfg["SQLITE_BUSY_TIMEOUT"] = float(env["SQLITE_BUSY_TIMEOUT"])
    if env.get("PORTAL_PROXY_HOPS"):
        cfg["PROXY_HOPS"] = int(env["PORTAL_PROXY_HOPS"])
    if env.get("DATABASE_URL"):
        cfg["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(env["DATABASE_URL"])
    cfg.update(overrides)
    if cfg.get("REDIS_URL"):
        cfg.setdefault("RATELIMIT_STORAGE_URI", cfg["REDIS_URL"])
        if cfg["RATELIMIT_STORAGE_URI"] == "memory://":
            cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"]
    if cfg["PORTAL_ENV"] == "production":
        if not cfg["SECRET_KEY"] or cfg["SECRET_KEY"] == DEV_SECRET_KEY:
            raise ConfigError("PORTAL_ENV=production needs SECRET_KEY set to a long random value; "
                              "the development default would let anyone forge sessions.")
        if not cfg.get("PORTAL_DATA_KEY"):
            raise ConfigError("PORTAL_ENV=production needs PORTAL_DATA_KEY (a Fernet key) to encrypt "
                              "ID numbers; generate one with "
                              "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'.")
        if not cfg.get("AUDIT_CHECKPOINT_KEY"):
            raise ConfigError("PORTAL_ENV=production needs AUDIT_CHECKPOINT_KEY (id:base64 secret) to sign the audit "
                              "checkpoints with a key the database never holds; generate one with "
                              "python -c 'import secrets, base64; print(\"k1:\" + base64.b64encode(secrets.token_bytes(32)).decode())'.")
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["PREFERRED_URL_SCHEME"] = "https"
    elif not cfg.get("PORTAL_DATA_KEY"):
        cfg["PORTAL_DATA_KEY"] = _development_data_key()
    if not cfg.get("AUDIT_CHECKPOINT_KEY"):
        cfg["AUDIT_CHECKPOINT_KEY"] = _development_checkpoint_key(cfg["SECRET_KEY"])
    checkpoint_keys(cfg["AUDIT_CHECKPOINT_KEY"])  # refused now if malformed, not at the first checkpoint
    try:  # one Fernet key, or several separated by commas during a rotation (core/crypto.py)
        for key in str(cfg["PORTAL_DATA_KEY"]).split(","):
            Fernet(key.strip())
    except (ValueError, TypeError) as exc:
        raise ConfigError("PORTAL_DATA_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes), "
                          "nor a comma-separated list of them.") from exc
    return cfg


def normalise_db_url(url):
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _development_data_key():
    """A stable made-up key for development, kept under instance/ so data stays readable."""
    path = ROOT / "instance" / "dev-data-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
    return path.read_text().strip()


CHECKPOINT_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,16}")
MIN_CHECKPOINT_KEY_BYTES = 16


def checkpoint_keys(value):
    """The audit checkpoint keys of ``AUDIT_CHECKPOINT_KEY`` ("id1:base64,id0:base64"), as a list of
    (key id, secret bytes), the signing key first; ConfigError when malformed."""
    keys = []
    for part in (value or "").split(","):
        key_id, sep, secret = part.strip().partition(":")
        if not sep or not CHECKPOINT_KEY_ID.fullmatch(key_id):
            raise ConfigError("AUDIT_CHECKPOINT_KEY must be id:base64secret[,id:base64secret…] with ids of "
                              "1-16 letters, digits, '.', '_' or '-'.")
        try:
            raw = base64.b64decode(secret.strip() + "=" * (-len(secret.strip()) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"AUDIT_CHECKPOINT_KEY: the secret of key {key_id!r} is not base64.") from exc
        if len(raw) < MIN_CHECKPOINT_KEY_BYTES:
            raise ConfigError(f"AUDIT_CHECKPOINT_KEY: the secret of key {key_id!r} is shorter than "
                              f"{MIN_CHECKPOINT_KEY_BYTES} bytes.")
        if key_id in dict(keys):
            raise ConfigError(f"AUDIT_CHECKPOINT_KEY names key {key_id!r} twice.")
        keys.append((key_id, raw))
    return keys


def _development_checkpoint_key(secret_key):
    """Development and tests: a checkpoint key derived from SECRET_KEY (production sets its own)."""
    derived = hmac.new(secret_key.encode(), b"portal audit checkpoint key", hashlib.sha256).digest()
    return "dev:" + base64.b64encode(derived).decode()
