"""Shared building blocks: time, money, working days, errors, model helpers."""
