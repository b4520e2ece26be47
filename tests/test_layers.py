"""The house in layers (docs/architecture.md): every import points down, no
module imports itself round a cycle, and no module grows past ~600 lines.

``make test`` also runs ``lint-imports`` with the contracts in pyproject.toml;
these tests prove that those contracts hold today and that they would catch
an upward import, naming both modules.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.configuration import configure
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
SESSION = {"root_packages": CONFIG["root_packages"]}
MAX_LINES = 600

configure()  # import-linter's own settings (its timer), as its command sets them


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*CONFIG["root_packages"], cache_dir=None)


def _contract(name_part: str):
    spec = next(c for c in CONFIG["contracts"] if name_part in c["name"])
    options = {
        k: (v if isinstance(v, list) else str(v))
        for k, v in spec.items()
        if k not in ("name", "type")
    }
    kind = {"layers": LayersContract, "forbidden": ForbiddenContract}[spec["type"]]
    return kind(name=spec["name"], session_options=SESSION, contract_options=options)


def test_lint_imports_keeps_every_contract():
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        # Evidence asking casework directly instead of through its hooks.
        ("jilu.evidence.models", "jilu.casework.models", "layers"),
        ("jilu.evidence.views", "jilu.access.gate", "Evidence asks"),
        # The base layers reaching up.
        ("jilu.org.views", "jilu.devices.models", "Org, the base"),
        ("jilu.audit.chain", "jilu.org.models", "audit chain"),
        # Casework building a package; the station importing server code.
        ("jilu.casework.views", "jilu.transfer.builder", "Casework builds"),
        ("jilu_station.ingest", "jilu.evidence.store", "station agent"),
        # Siblings stay independent: ingest does not read casework.
        ("jilu.ingest.actions", "jilu.casework.models", "layers"),
    ],
)
def test_an_upward_import_is_refused_naming_both_modules(importer, imported, contract):
    graph = _graph()
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
    check = _contract(contract).check(graph, verbose=False)
    assert not check.kept
    text = repr(check.metadata)
    assert importer in text and imported in text


def test_no_import_cycles_between_modules():
    """Tarjan's strongly connected components over every module of the server
    (tests excepted): each must be a single module."""
    graph = _graph()
    modules = sorted(m for m in graph.modules if m.startswith("jilu.") and ".tests" not in m)
    edges = {
        m: sorted(t for t in graph.find_modules_directly_imported_by(m) if t in set(modules))
        for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in modules:
        if module not in index:
            visit(module)
    assert cycles == [], "import cycles: " + "; ".join(" ⇄ ".join(c) for c in cycles)


def test_modules_stay_small():
    too_long = {
        str(path.relative_to(ROOT)): n
        for base in ("jilu", "jilu_station")
        for path in (ROOT / base).rglob("*.py")
        if "migrations" not in path.parts and "tests" not in path.parts
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"split these modules along their seams: {too_long}"
