"""Personal identifiers at rest: encrypted with PORTAL_DATA_KEY (Fernet), found again through a
keyed hash (HMAC-SHA256 with a key derived from the same secret), shown masked.

PORTAL_DATA_KEY may hold several Fernet keys separated by commas (a rotation, README "Rotating
PORTAL_DATA_KEY"): the first encrypts and keys new hashes, every one decrypts (MultiFernet), and a
lookup by ID number matches the hash under any of them (``keyed_hashes``) until
`flask --app wsgi rotate-data-key` has rewritten every row under the first."""
import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def data_keys(value):
    """The keys of a PORTAL_DATA_KEY value, first (the encrypting one) first; ValueError if one is
    not a Fernet key or there is none."""
    keys = [part.strip() for part in (value or "").split(",") if part.strip()]
    if not keys:
        raise ValueError("no key")
    for key in keys:
        Fernet(key)
    return keys


def _keys():
    return data_keys(current_app.config["PORTAL_DATA_KEY"])


def _fernet():
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(text):
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token, ttl=None):
    """The text of ``token`` under any configured key; with ``ttl`` (seconds) an older token
    raises InvalidToken."""
    return _fernet().decrypt(token.encode(), ttl=ttl).decode()


def under_first_key(token):
    """Is ``token`` encrypted with the first (current) key?"""
    try:
        Fernet(_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def reencrypt(token):
    """``token`` encrypted again under the first key (its original time kept)."""
    return _fernet().rotate(token.encode()).decode()


def _keyed_hash_with(key, text, purpose):
    master = base64.urlsafe_b64decode(key)
    derived = hmac.new(master, f"portal:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(derived, text.strip().upper().encode(), hashlib.sha256).hexdigest()


def keyed_hash(text, purpose="id-number"):
    """A stable, secret-keyed fingerprint under the first key: equal inputs match, but the hash
    alone reveals nothing and cannot be brute-forced without the key (ID numbers have little
    entropy). What is stored with a new row."""
    return _keyed_hash_with(_keys()[0], text, purpose)


def keyed_hashes(text, purpose="id-number"):
    """The fingerprint of ``text`` under every configured key, the first key's first: what a
    lookup compares with (``column.in_(keyed_hashes(number))``), so that rows not yet rewritten
    by a rotation are still found."""
    return list(dict.fromkeys(_keyed_hash_with(key, text, purpose) for key in _keys()))


def hash_aliases(texts, purpose="id-number"):
    """{fingerprint under any key: fingerprint under the first key} of every text: for a lookup of
    many at once (an import), whose matches are then named by the first key's fingerprint."""
    aliases = {}
    for text in texts:
        hashes = keyed_hashes(text, purpose)
        aliases.update(dict.fromkeys(hashes, hashes[0]))
    return aliases


def mask_id_number(number):
    """360426199101010071 -> 3604**********0071 (first four and last four kept)."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name):
    """张三丰 -> 张*丰, 张三 -> 张*: enough for the person to recognise, not to identify."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def surname_only(name):
    """张三丰 -> 张*: the surname and one star, whatever the name's length (the public lists of
    docs/DOMAIN.md §6–§9, where even the last character is too much)."""
    return name[0] + "*" if name else ""


def mask_phone(phone):
    digits = phone or ""
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 11 else "*" * len(digits)
