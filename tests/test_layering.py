"""The dependency direction between mlproj's packages, read from the imports in the source.

commands -> sweep -> run -> (backends, envs, sources, spec, tracking)
    -> (proc, _util, paths, output, errors)

An import counts wherever it is written (module top, inside a function, under TYPE_CHECKING),
and so does the dotted path of a module given as a string ("mlproj.commands.run"), which is
how the CLI and the env manager registry load their modules lazily. Importing the root package
`mlproj` (as every `import mlproj.x` does) is no dependency: it holds only __version__.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "mlproj"
# every top-level module and package of mlproj; "__init__" is the root package (mlproj itself)
EVERYTHING = frozenset(
    [
        *("__init__", "__main__", "script", "cli", "commands", "sweep", "run", "backends"),
        *("envs", "sources", "spec", "tracking", "proc", "_util", "paths", "output", "errors"),
    ]
)
MODULE_PATH = re.compile(r"mlproj(\.[A-Za-z_]\w*)+")


@dataclass(frozen=True)
class Rule:
    importers: frozenset[str]  # top-level packages/modules of mlproj the rule is about
    never: frozenset[str]  # what they must not import
    why: str


def never(importers: str, targets: str, why: str) -> Rule:
    return Rule(frozenset(importers.split()), frozenset(targets.split()), why)


def only(importer: str, allowed: str, why: str) -> Rule:
    return Rule(frozenset([importer]), EVERYTHING - {importer, "__init__", *allowed.split()}, why)


RULES = [
    never(
        "spec sources tracking",
        "envs run sweep backends commands cli",
        "reading projects, fetching them and recording runs know nothing of how a run executes",
    ),
    never(
        "envs backends", "run sweep commands cli", "environments and backends serve the pipeline"
    ),
    never(
        "run",
        "sweep commands cli",
        "the pipeline of one run is driven from above, not the other way",
    ),
    only(
        "proc",
        "errors _util",
        "process groups are the bottom layer that every other one uses (its records are "
        "_util.record's)",
    ),
    only("_util", "errors", "shared utilities know nothing of mlproj's features"),
    only("paths", "errors", "the cache layout is read by every layer"),
    only("output", "", "every layer speaks through it; it must stay cheap to import"),
    only(
        "errors",
        "_util",
        "every layer raises these errors (they scrub secrets with _util.redact, which imports "
        "nothing)",
    ),
    Rule(EVERYTHING - {"cli", "commands"}, frozenset(["commands"]), "commands are the CLI's"),
    only("__main__", "script", "`python -m mlproj` starts as the `mlproj` script does"),
    only("script", "cli _util", "the script pauses the collector, then starts the CLI"),
]


def top_level(module: str) -> str:
    """mlproj.envs.conda.manager -> envs; mlproj -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(root: Path, dotted: str) -> bool:
    """Whether DOTTED names a module or package in the tree ROOT (mlproj/)."""
    path = root.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(root: Path, path: Path) -> Iterator[tuple[str, bool]]:
    """What PATH imports, as (dotted name with relative imports resolved, named by a string)."""
    package = module_name(root, path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, False) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield base, False
            yield from ((f"{base}.{alias.name}", False) for alias in node.names)  # submodules?
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # a registry names a module in a package ("mlproj.commands.run"); two parts are
            # more likely a label ("mlproj.run" is the docker label of mlproj's containers)
            if MODULE_PATH.fullmatch(node.value) and node.value.count(".") >= 2:
                yield node.value, True
        elif isinstance(node, ast.JoinedStr) and node.values:  # f"mlproj.commands.{verb}"
            head = node.values[0]
            if (
                isinstance(head, ast.Constant)
                and isinstance(head.value, str)
                and head.value.endswith(".")
                and MODULE_PATH.fullmatch(head.value[:-1])
            ):
                yield head.value[:-1], True


def dependencies(root: Path) -> set[tuple[str, str, str]]:
    """(importer, imported) top-level packages, with the file that imports: one per pair."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        importer = top_level(module_name(root, path))
        for module, as_string in imported_modules(root, path):
            if not module.startswith("mlproj."):
                continue
            # a string counts only if it names a module ("mlproj.env.key" is a run tag);
            # `from mlproj import __version__` imports no module
            if not is_module(root, module if as_string else ".".join(module.split(".")[:2])):
                continue
            target = top_level(module)
            if target != importer:
                found.add((importer, target, str(path.relative_to(root))))
    return found


def violations(root: Path) -> list[str]:
    """One line per import that breaks a rule, with the rule's reason."""
    found = []
    for importer, target, where in dependencies(root):
        broken = [r for r in RULES if importer in r.importers and target in r.never]
        if broken:
            found.append(f"{where} imports mlproj.{target}: {broken[0].why}")
    return sorted(found)


def test_mlproj_keeps_its_dependency_direction() -> None:
    assert violations(PACKAGE) == []


def test_the_rules_name_every_package_there_is() -> None:
    """A new top-level package or module gets its place in the rules (and the README's tree)."""
    present = {
        p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert present <= EVERYTHING, sorted(present - EVERYTHING)


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("spec/model.py", "from mlproj.envs import base\n", "spec/model.py imports mlproj.envs"),
        ("tracking/q.py", "def f():\n    import mlproj.run.runner\n", "imports mlproj.run"),
        ("sources/uri.py", "from ..backends import slurm\n", "imports mlproj.backends"),
        ("proc.py", "from mlproj import paths\n", "proc.py imports mlproj.paths"),
        ("proc.py", "from .spec.model import Project\n", "proc.py imports mlproj.spec"),
        ("_util/filelock.py", "from ..sources import uri\n", "imports mlproj.sources"),
        ("envs/__init__.py", 'M = {"x": "mlproj.commands.run"}\n', "imports mlproj.commands"),
        ("run/runner.py", "from mlproj.commands import run\n", "imports mlproj.commands"),
        ("envs/base.py", "import mlproj.run.tags\n", "envs/base.py imports mlproj.run"),
        ("cli.py", "import importlib\nimportlib.import_module(f'mlproj.run.{x}')\n", None),
        ("run/runner.py", "from mlproj.envs import base\nfrom mlproj import errors\n", None),
        ("spec/model.py", "from mlproj import __version__\n", None),
        ("envs/docker.py", 'LABEL = "mlproj.run"\nTAG = "mlproj.run.owner"\n', None),
    ],
)
def test_a_violation_is_reported(
    tmp_path: Path, path: str, source: str, expected: str | None
) -> None:
    """The check above can fail: a copy of the layout with one import added breaks it."""
    root = tmp_path / "mlproj"
    modules = {"__init__", "__main__", "script", "cli", "proc", "paths", "output", "errors"}
    for name in EVERYTHING - modules:
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
    for name in (
        "__init__",
        "__main__",
        "script",
        "cli",
        "proc",
        "paths",
        "output",
        "errors",
        "commands/run",
    ):
        (root / f"{name}.py").write_text("")
    (root / path).write_text(source)
    found = violations(root)
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found
