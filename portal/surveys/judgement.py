"""STUB (bureau's stand-in until wip/core's judgement.py is merged)."""


def reason_text(reason):
    return ", ".join(f"{k}={v}" for k, v in reason.items())
