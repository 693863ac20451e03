"""The password policy: what a person may choose as a new password.

At least 10 characters, not on the shipped list of passwords common among Chinese-speaking users
(common_passwords.txt beside this module: number puns, keyboard walks, pinyin names and phrases,
also with digits or punctuation around them), and rated at least 3 of 4 by zxcvbn, which also
refuses passwords built from the person's own username, name, bureau or organisation.

A guesser tries the variants people type, so the password is compared in each of them: lower case,
separators removed, symbols typed with Shift read as their digits (``1qaz@WSX3edc`` is the walk
``1qaz2wsx3edc``) and look-alike characters read as letters (``P@ssw0rd``). In each variant, what
is the person's own (their username and its parts, their name in pinyin and its initials, the
bureau's code, the code with a region suffix such as ``ganxianxian``, the bureau's and contractor's
names in pinyin and initials such as ``gxmzj``), the common words (admin, pass, test, ceshi,
mzj…), years 1950–2039 and runs of digits (``123456``, ``888``, ``2026 2026``) are taken out, and
what remains must still be rated 3 of 4: ``Admin@123456``, ``Gxmzj@2026``, ``ganxianxian2026`` or
``wangceshi2026`` (for 王测试) are refused, random passwords and passphrases are not. Applied when
a person changes their password and when an administrator types one for a new account; passwords
the portal generates (an administrator's reset) and the demo world's fixed password
(``seed-demo``) are not checked."""
import re
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from pypinyin import lazy_pinyin
from zxcvbn import zxcvbn

from portal.core.errors import DomainError

MIN_LENGTH = 10
MIN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are rated
_AROUND = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$")
_SEPARATORS = re.compile(r"[\s\-_.,;:/\\|+=~`'\"<>?()\[\]{}]+")
# Symbols typed with Shift on a digit key (a keyboard walk with Shift held: 1qaz@WSX3edc), and
# the look-alike spellings of letters (P@ssw0rd, Adm1n).
_SHIFTED = str.maketrans("!@#$%^&*()", "1234567890")
_LEET = str.maketrans("@4!1|0$5732", "aaiiiosstez")
# Words every guessing list starts with, in English and pinyin, the civil-affairs abbreviations,
# and the fragments of keyboard walks. Stripped (longest first) before the rest is rated.
COMMON_WORDS = (
    "administrator", "admin", "password", "passwd", "pass", "pwd", "mima", "demo", "test", "ceshi",
    "welcome", "root", "user", "guest", "system", "super", "manager", "guanli", "guanliyuan",
    "zhanghao", "login", "hello", "iloveyou", "woaini", "love", "abc", "abcd", "qwerty", "qwer",
    "asdf", "zxcv", "qaz", "wsx", "edc", "rfv", "tgb", "yhn", "ujm", "qazwsx", "1qaz", "2wsx", "3edc",
    "4rfv", "minzhengju", "minzheng", "mzj", "mzt", "mzb", "china", "zhongguo",
)
# A bureau named by its code and the kind of place: ganxian + xian, zhanggong + qu, ganzhou + shi.
REGION_SUFFIXES = ("xian", "qu", "shi", "mzj", "mzt", "minzhengju")
_ORG_SUFFIXES = ("民政局", "民政厅", "有限责任公司", "有限公司", "公司", "中心", "县", "区", "市", "省")
_YEARS = re.compile(r"19[5-9]\d|20[0-3]\d")
_REPEATS = re.compile(r"(\d)\1{2,}|(\d\d)\2+")
_DIGITS = re.compile(r"\d{3,}")
_DIGITS_ASC = "01234567890"
_DIGITS_DESC = "09876543210"
_NOT_ALNUM = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def common_passwords():
    path = Path(__file__).with_name("common_passwords.txt")
    lines = (line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _variants(password):
    """The password as guessers try it: lower case; without separators; with Shift-symbols read
    as digits; with look-alike characters read as letters (the last two without any symbol)."""
    lowered = password.lower()
    plain = _SEPARATORS.sub("", lowered)
    return {lowered, plain, _NOT_ALNUM.sub("", plain.translate(_SHIFTED)),
            _NOT_ALNUM.sub("", plain.translate(_LEET))}


def _is_common(password):
    listed = common_passwords()
    for variant in _variants(password):
        core = _AROUND.match(variant).group(1)  # the word inside digits and punctuation
        if variant in listed or (core and core in listed):
            return True
    return False


@lru_cache(maxsize=1)
def _common_words():
    """COMMON_WORDS and the words of the shipped list (zhangwei, woaini…), longest first."""
    words = set(COMMON_WORDS) | {w for w in common_passwords() if w.isalpha() and len(w) >= 5}
    return tuple(sorted(words, key=len, reverse=True))


def _pinyin_spellings(han, person):
    """A Chinese name typed in pinyin: whole and by initials; a person's (``person``) also by
    surname, given name, and given name then surname (wang, ceshi, ceshiwang)."""
    syllables = [s for s in lazy_pinyin(han) if s.isalpha()]
    if not syllables:
        return set()
    spellings = {"".join(syllables), "".join(s[0] for s in syllables)}
    if person and len(syllables) > 1:
        spellings |= {syllables[0], "".join(syllables[1:]), "".join(syllables[1:]) + syllables[0]}
    return spellings


def personal_tokens(inputs):
    """What a password must not lean on, from the words of ``user_inputs``: each word in lower
    case and by its parts, a code with a region suffix (ganxianxian, xinfengqu), a Chinese name in
    pinyin and initials, an organisation's name also without its kind (赣县区民政局 → 赣县区 →
    赣县). Tokens shorter than two letters are left out."""
    tokens = set()
    for word in inputs:
        lowered = word.lower()
        parts = [part for part in re.split(r"[^a-z0-9]+", lowered) if part]
        tokens.update(parts)
        joined = "".join(parts)
        tokens.add(joined)
        if joined.isalpha():
            tokens.update(joined + suffix for suffix in REGION_SUFFIXES)
        han = "".join(ch for ch in word if "\u4e00" <= ch <= "\u9fff")
        if han:
            tokens |= _pinyin_spellings(han, person=len(han) <= 4)
            core = han
            while any(core.endswith(s) and len(core) > len(s) for s in _ORG_SUFFIXES):
                core = next(core[:-len(s)] for s in _ORG_SUFFIXES if core.endswith(s) and len(core) > len(s))
                tokens |= _pinyin_spellings(core, person=False)
    return {t for t in tokens if len(t) >= 2}


def _strip_tokens(text, tokens):
    for token in sorted(tokens, key=len, reverse=True):
        text = text.replace(token, "")
    return text


def _strip_digit_runs(text):
    """Without years 1950–2039, repeated digits (888, 2626) and counting runs (123456, 9876)."""
    text = _REPEATS.sub("", _YEARS.sub("", text))
    return _DIGITS.sub(lambda m: "" if m.group() in _DIGITS_ASC or m.group() in _DIGITS_DESC else m.group(), text)


def _strong(rest, tokens):
    return bool(rest) and zxcvbn(rest[:ZXCVBN_MAX_LENGTH], user_inputs=list(tokens))["score"] >= MIN_SCORE


def _weak_remainder(password, tokens):
    """"own" when what remains of a variant without the person's tokens, common words, years and
    digit runs is too weak and the person's tokens were part of it; "common" when it is too weak
    without them; None when every variant keeps enough."""
    for variant in _variants(password):
        without_own = _strip_tokens(variant, tokens)
        rest = _strip_digit_runs(_strip_tokens(without_own, _common_words()))
        if not _strong(rest, tokens):
            return "own" if without_own != variant else "common"
    return None


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
    tokens = personal_tokens(inputs)
    weak = _weak_remainder(password, tokens)
    if weak == "own":
        return _("Do not build the password from your username, your name or your organisation's name.")
    if weak == "common":
        return _("This password is too easy to guess. Use a longer one, for example a few unrelated words.")
    rated = password[:ZXCVBN_MAX_LENGTH]
    rating = zxcvbn(rated, user_inputs=[*inputs, *tokens])
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
