"""大写金额: integer fen written in capitals by the People's Bank of China rules, checked against a
table written by hand and, for every amount up to 10^14 fen, read back by an independent parser."""
import pytest
from hypothesis import given, settings, strategies as st

from portal.core.money import amount_in_words

TABLE = [
    (0, "零元整"),
    (1, "壹分"),
    (5, "伍分"),
    (10, "壹角整"),
    (15, "壹角伍分"),
    (100, "壹元整"),
    (105, "壹元零伍分"),
    (110, "壹元壹角整"),
    (1_000, "壹拾元整"),
    (1_500, "壹拾伍元整"),
    (10_100, "壹佰零壹元整"),
    (100_500, "壹仟零伍元整"),
    (1_010_100, "壹万零壹佰零壹元整"),
    (10_000_000, "壹拾万元整"),
    (10_000_100, "壹拾万零壹元整"),
    (100_000_500, "壹佰万零伍元整"),
    (123_456_789, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    (10_001_000_000, "壹亿零壹万元整"),
    (20_000_000_000, "贰亿元整"),
    (-100, "负壹元整"),
    (-123_45, "负壹佰贰拾叁元肆角伍分"),
]


@pytest.mark.parametrize("fen, words", TABLE)
def test_table(fen, words):
    assert amount_in_words(fen) == words


def test_none_and_wrong_types():
    assert amount_in_words(None) == ""
    for wrong in (1.5, "100", True):
        with pytest.raises(TypeError):
            amount_in_words(wrong)


DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_section(text):
    """A run below 万 ('壹仟零伍') → 1005; 零 only ever stands alone, never twice in a row."""
    total, digit = 0, None
    assert "零零" not in text
    for char in text:
        if char in SMALL:
            assert digit, text  # every unit has its digit (壹拾, never 拾)
            total += digit * SMALL[char]
            digit = None
        elif char == "零":
            assert digit is None, text
        else:
            digit = DIGITS[char]
    return total + (digit or 0)


def _parse_words(words):
    """The inverse of amount_in_words, written independently: back to integer fen."""
    sign = -1 if words.startswith("负") else 1
    words = words.removeprefix("负")
    if words.endswith("整"):
        words = words[:-1]
        assert not words.endswith("分"), "整 never follows 分"
    yuan_text, has_yuan, rest = words.partition("元")
    if not has_yuan:
        yuan_text, rest = "", words
    yuan = 0
    for unit, scale in (("亿", 10 ** 8), ("万", 10 ** 4)):
        if unit in yuan_text:
            head, _, yuan_text = yuan_text.partition(unit)
            yuan += (_parse_section(head) if unit == "万" else _parse_words(head + "元整") // 100) * scale
    yuan += _parse_section(yuan_text)
    rest = rest.removeprefix("零")
    jiao = fen = 0
    if "角" in rest:
        head, _, rest = rest.partition("角")
        jiao = DIGITS[head]
    if "分" in rest:
        fen = DIGITS[rest.removesuffix("分")]
    return sign * (yuan * 100 + jiao * 10 + fen)


@pytest.mark.parametrize("fen, words", TABLE)
def test_parser_reads_the_table(fen, words):
    assert _parse_words(words) == fen


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=-10 ** 14 + 1, max_value=10 ** 14 - 1))
def test_round_trip(fen):
    words = amount_in_words(fen)
    assert words.endswith(("整", "分"))
    assert not words.endswith("分整")
    assert _parse_words(words) == fen


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10 ** 14 - 1).map(lambda n: n - n % 100))
def test_whole_yuan_end_with_zheng(fen):
    assert amount_in_words(fen).endswith("元整")
