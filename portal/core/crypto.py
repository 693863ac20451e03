"""Personal identifiers at rest: encrypted with PORTAL_DATA_KEY (Fernet), found again through a
keyed hash (HMAC-SHA256 with a key derived from the same secret), shown masked."""
import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from flask import current_app


def _fernet():
    return Fernet(current_app.config["PORTAL_DATA_KEY"])


def encrypt(text):
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token, ttl=None):
    """The text of ``token``; with ``ttl`` (seconds) an older token raises InvalidToken."""
    return _fernet().decrypt(token.encode(), ttl=ttl).decode()


def keyed_hash(text, purpose="id-number"):
    """A stable, secret-keyed fingerprint: equal inputs match, but the hash alone reveals nothing
    and cannot be brute-forced without the key (ID numbers have little entropy)."""
    master = base64.urlsafe_b64decode(current_app.config["PORTAL_DATA_KEY"])
    key = hmac.new(master, f"portal:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, text.strip().upper().encode(), hashlib.sha256).hexdigest()


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
