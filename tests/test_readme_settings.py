"""Every ``JILU_*`` setting Jilu reads is a row of README's settings table, and every
row is a setting Jilu reads.

The names read are taken two ways: by running the settings module with a spy on
the one function that reads the environment (``conf._raw``), with the S3 store
configured so its variables are read too, and from the names written out in
``jilu/settings.py`` and ``jilu/conf.py`` (settings read only in some
configurations).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.test_settings import clean_env

REPO = Path(__file__).resolve().parent.parent
NAME = re.compile(r"JILU_[A-Z0-9_]*[A-Z0-9]")

SPY = """
import json
from jilu import conf
seen = set()
read = conf._raw
def spy(name):
    seen.add(name)
    return read(name)
conf._raw = spy
import jilu.settings
print(json.dumps(sorted(seen)))
"""


def names_read(tmp_path: Path) -> set[str]:
    env = clean_env(tmp_path / "var", JILU_STORAGE="s3", JILU_S3_BUCKET="evidence")
    done = subprocess.run(
        [sys.executable, "-c", SPY], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    seen = set(json.loads(done.stdout.strip().splitlines()[-1]))
    for module in ("settings.py", "conf.py"):
        text = (REPO / "jilu" / module).read_text()
        seen |= {m.group(1) for m in re.finditer(r"[\"'](JILU_[A-Z0-9_]*[A-Z0-9])[\"']", text)}
    return seen


def names_documented() -> set[str]:
    """The names in the first column of README's settings table (## Configuration)."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `JILU_"):
            names |= set(NAME.findall(line.split("|")[1]))
    return names


def test_every_setting_read_is_in_the_readme_table(tmp_path):
    read = names_read(tmp_path)
    assert {"JILU_DATABASE_URL", "JILU_S3_BUCKET", "JILU_AUDIT_KEY_FILE"} <= read
    missing = sorted(read - names_documented())
    assert not missing, f"add a row to README's settings table for: {', '.join(missing)}"


def test_every_row_of_the_readme_table_is_a_setting_read(tmp_path):
    stale = sorted(names_documented() - names_read(tmp_path))
    assert not stale, f"README's settings table names settings Jilu does not read: {stale}"
