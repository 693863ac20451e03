"""The password policy: what a person may choose as a new password.

At least 10 characters, not on the shipped list of passwords common among Chinese-speaking users
(common_passwords.txt beside this module: number puns, keyboard walks, pinyin names and phrases,
also with digits or punctuation around them), and rated at least 3 of 4 by zxcvbn, which also
refuses passwords built from the person's own username, name, bureau or organisation. Applied when
a person changes their password and when an administrator types one for a new account; passwords
the portal generates (an administrator's reset) and the demo world's fixed password
(``seed-demo``) are not checked."""
import re
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from zxcvbn import zxcvbn

from portal.core.errors import DomainError

MIN_LENGTH = 10
MIN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are rated
_AROUND = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$")


@lru_cache(maxsize=1)
def common_passwords():
    path = Path(__file__).with_name("common_passwords.txt")
    lines = (line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _is_common(password):
    lowered = password.lower()
    if lowered in common_passwords():
        return True
    core = _AROUND.match(lowered).group(1)  # the word inside digits and punctuation
    return bool(core) and core in common_passwords()


def user_inputs(user=None, *names):
    """The words a password must not be built from: the person's username and name, the codes and
    names of their bureau and contractor, and any ``names`` given (a form's fields before the user
    exists)."""
    words = list(names)
    if user is not None:
        words += [user.username, user.display_name]
        for owner in (user.tenant, user.contractor):
            if owner is not None:
                words += [getattr(owner, "code", ""), owner.name]
    return [w.strip() for w in words if w and w.strip()]


def weakness(password, inputs=()):
    """Why ``password`` may not be used (a translated sentence), or None when it may."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return _("At least 10 characters.")
    if _is_common(password):
        return _("This password is one of the most common ones and is guessed first. Choose another.")
    rated = password[:ZXCVBN_MAX_LENGTH]
    rating = zxcvbn(rated, user_inputs=list(inputs))
    own = sum(len(m["token"]) for m in rating["sequence"] if m.get("dictionary_name") == "user_inputs")
    # zxcvbn rates two of one's own names joined (ganxian-gx-clerk) as hard to guess; they are not.
    if own * 2 >= len(rated) or (own and rating["score"] < MIN_SCORE):
        return _("Do not build the password from your username, your name or your organisation's name.")
    if rating["score"] >= MIN_SCORE:
        return None
    return _("This password is too easy to guess. Use a longer one, for example a few unrelated words.")


def require_strong(password, inputs=(), field="password"):
    """Raise a DomainError naming ``field`` when ``password`` may not be used."""
    reason = weakness(password, inputs)
    if reason is not None:
        raise DomainError(reason, {field: [reason]})
