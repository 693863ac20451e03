"""Money is integer fen everywhere; yuan appear only when shown."""


def format_fen(fen, symbol=False):
    """12345 -> '123.45' (and '¥123.45' with ``symbol``); negative amounts keep their sign."""
    if fen is None:
        return ""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError("money is integer fen")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    text = f"{sign}{yuan:,}.{cents:02d}"
    return f"¥{text}" if symbol else text


def parse_yuan(text):
    """'1,234.5' -> 123450 fen, exactly (no floats); ValueError for anything else."""
    cleaned = str(text).strip().replace(",", "").replace("¥", "").replace("￥", "")
    negative = cleaned.startswith("-")
    cleaned = cleaned.lstrip("+-")
    whole, _, frac = cleaned.partition(".")
    if not whole.isdigit() and not (whole == "" and frac.isdigit()):
        raise ValueError(f"not an amount: {text!r}")
    if frac and (not frac.isdigit() or len(frac) > 2):
        raise ValueError(f"at most two decimals: {text!r}")
    fen = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -fen if negative else fen


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _group_words(group):
    """0 < group < 10000 in capitals with its small units; zeros inside read 零 once (1005 → 壹仟零伍)."""
    words, zero = [], False
    for power in (3, 2, 1, 0):
        digit = group // 10 ** power % 10
        if digit == 0:
            zero = bool(words)
        else:
            if zero:
                words.append("零")
                zero = False
            words.append(_DIGITS[digit] + _SMALL_UNITS[power])
    return "".join(words)


def _yuan_words(yuan):
    """The whole yuan in capitals (without 元): groups of four digits with 万/亿, a 零 between groups
    wherever a 仟 place (or a whole group) stands empty: 100000 → 壹拾万, 100005 → 壹拾万零伍."""
    groups = []
    while yuan:
        yuan, group = divmod(yuan, 10000)
        groups.append(group)
    words, pending_zero = [], False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(words)
            continue
        if words and (pending_zero or group < 1000):
            words.append("零")
        words.append(_group_words(group) + _BIG_UNITS[index])
        pending_zero = False
    return "".join(words)


def amount_in_words(fen):
    """Integer fen as the 大写金额 written on payment documents (People's Bank of China rules):
    123456789 → 壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分, 100 → 壹元整, 0 → 零元整, 110 → 壹元壹角整,
    105 → 壹元零伍分, 5 → 伍分; 整 follows 元 or 角 when there is no 分, never 分; negative → 负…"""
    if fen is None:
        return ""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError("money is integer fen")
    if fen == 0:
        return "零元整"
    sign = "负" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    jiao, fen_digit = divmod(cents, 10)
    text = _yuan_words(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan and fen_digit:
        text += "零"  # 壹元零伍分
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    else:
        text += "整"
    return sign + text
