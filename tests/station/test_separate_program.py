"""jilu_station is a separate program: it talks HTTP and never imports Django or ``jilu``."""

from __future__ import annotations

import subprocess
import sys


def test_no_django_and_no_jilu_imports():
    code = (
        "import sys, pkgutil, importlib, jilu_station\n"
        "for m in pkgutil.iter_modules(jilu_station.__path__):\n"
        "    importlib.import_module('jilu_station.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'django' or n.startswith('django.')"
        " or n == 'jilu' or n.startswith('jilu.'))\n"
        "assert not bad, bad\n"
    )
    env = {"PATH": "/usr/bin:/bin"}  # no DJANGO_SETTINGS_MODULE either
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
