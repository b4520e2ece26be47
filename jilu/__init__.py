"""Jilu (记录): evidence platform for law-enforcement body-worn recorders."""

__version__ = "0.1.0"
