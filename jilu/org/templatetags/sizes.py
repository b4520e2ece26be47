"""``{% load sizes %}{{ bytes|size }}``: a size in the one convention of
``jilu.org.sizes`` (decimal units), never Django's binary ``filesizeformat``."""

from __future__ import annotations

from django import template

from jilu.org.sizes import human_size

register = template.Library()


@register.filter
def size(value: int | None) -> str:
    return human_size(value)
