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
