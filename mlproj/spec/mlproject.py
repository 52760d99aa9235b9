"""The MLproject file: find it, read it the way MLflow reads it, and say what is wrong.

`analyze` turns the node tree into a Project and a list of problems. Errors are what MLflow
also refuses (or crashes on); warnings are traps it silently accepts. Mistakes MLflow only
trips over when one entry point is run (no command, a placeholder that names no parameter)
stay with that entry point (`EntryPoint.error`), so the others still run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlproj._util.record import replace
from mlproj._util.regular_file import read_regular
from mlproj.errors import SpecError
from mlproj.spec import yamltree
from mlproj.spec.model import DockerEnv, EntryPoint, EnvDecl, EnvKind, Parameter, Project
from mlproj.spec.params import (
    kind_of,
    local_path,
    template_problems,
    unknown_type_message,
    value_problem,
)
from mlproj.spec.problems import Problems, did_you_mean, raise_first_error
from mlproj.spec.yamltree import Map, Node, Scalar, Seq, kind_name

MLPROJECT = "mlproject"
ENV_KEYS = ("docker_env", "python_env", "conda_env")  # MLflow's precedence order
TOP_KEYS = ("name", *ENV_KEYS, "entry_points", "databricks_spark_job")
ENTRY_POINT_KEYS = ("parameters", "command")
PARAM_KEYS = ("type", "default")
DOCKER_KEYS = ("image", "volumes", "environment", "gpus")
# Files that imply an environment when the MLproject declares none, in MLflow's order
# (conda.yml is our addition).
DEFAULT_ENV_FILES: tuple[tuple[str, EnvKind], ...] = (
    ("python_env.yaml", "python"),
    ("conda.yaml", "conda"),
    ("conda.yml", "conda"),
)
# compiled (and cached by `re`) when an unknown key is met, not at every start
_GLUED_KEY = r"^(type|default):(\S.*)$"
_VOLUMES_SHAPE = 'Docker volumes must be a list of strings, e.g. ["/host/data:/data"]'
_ENVIRONMENT_SHAPE = (
    "docker_env environment must be a list of names (copied from the host) or [NAME, value] "
    'pairs, e.g. [["NEW_VAR", "new_value"], "VAR_TO_COPY"]'
)


def find_mlproject(directory: Path) -> Path | None:
    """The MLproject file of a directory, matched case-insensitively as MLflow does."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise SpecError(f"cannot read the project directory {directory}: {exc.strerror}") from None
    for name in names:
        if name.lower() == MLPROJECT:
            return directory / name
    return None


def load_project(directory: Path) -> Project:
    """Read a project directory; raise SpecError for anything MLflow would also refuse."""
    directory = Path(os.path.abspath(directory))
    if not directory.is_dir():
        what = "not a directory" if directory.exists() else "no such directory"
        raise SpecError(f"cannot load a project from {directory}: {what}")
    spec_file = find_mlproject(directory)
    problems = Problems(spec_file or directory)
    root = yamltree.load(spec_file, problems) if spec_file else None
    project = analyze(directory, spec_file, root, problems)
    raise_first_error(problems.fatal())
    return project


def analyze(
    directory: Path, spec_file: Path | None, root: Node | None, problems: Problems
) -> Project:
    """The Project an MLproject describes; every problem found goes to `problems`."""
    if spec_file is None:
        return Project(directory, None, default_env(directory), {}, None)
    if not isinstance(root, Map):
        if root is None:
            problems.error(0, 0, "the MLproject file is empty; it needs at least `entry_points:`")
        else:
            problems.error_at(
                root,
                f"the MLproject must be a mapping of keys "
                f"({', '.join(TOP_KEYS)}), not {yamltree.kind_only(root)}",
            )
        return Project(directory, None, default_env(directory), {}, spec_file)
    unknown_keys(root, TOP_KEYS, "at the top level", problems, top_level=True)
    name = _project_name(root, problems)
    env = _Environment(directory, problems).read(root)
    if env.kind == "docker" and name is None:
        problems.warn_at(
            root,
            "a docker_env project has no `name:`; MLflow refuses to run "
            "it (the name tags the image)",
        )
    entry_points = _EntryPoints(directory, problems).read(root)
    if not entry_points and not any(p.severity == "error" for p in problems.items):
        # MLflow runs only scripts (`-e train.py`) from such a project; `-e main` fails
        declared = root.get("entry_points")
        problems.defer_at(
            declared[0] if declared else root,
            "the MLproject declares no entry points, so `mlproj run` without `-e SCRIPT.py` "
            "fails; add `entry_points: {main: {command: ...}}`",
        )
    databricks = root.get("databricks_spark_job")
    if databricks:
        problems.warn_at(
            databricks[0],
            "databricks_spark_job is ignored: it only works with MLflow's Databricks backend",
        )
    return Project(directory, name, env, entry_points, spec_file)


def unknown_keys(
    node: Map,
    known: tuple[str, ...],
    where: str,
    problems: Problems,
    top_level: bool = False,
    glued_consequence: str = "",
) -> None:
    """Warn about each key that is not in `known`, suggesting the closest known one."""
    for key, value in node.pairs:
        if key.value in known or (top_level and str(key.value).startswith("x-")):
            continue  # x-* keys: extension fields that hold anchors, as in compose files
        glued = _glued(key, value) if "default" in known else None
        if glued:
            problems.warn_at(
                key,
                f"'{key.text}' is read as one key because there is no "
                f"space after ':'{glued_consequence}; write '{glued[1]}: {glued[2]}'",
            )
            continue
        problems.warn_at(
            key, f"unknown key '{key.text}' {where}, ignored{did_you_mean(str(key.value), known)}"
        )


_SPELLINGS = {".yaml": ".yml", ".yml": ".yaml"}


def _other_spelling(path: Path) -> str:
    """` There is conda.yml: did you mean it?` when only the extension differs."""
    other = _SPELLINGS.get(path.suffix)
    if other and path.with_suffix(other).is_file():
        return f" There is {path.with_suffix(other).name} beside it: did you mean that file?"
    return ""


def _glued(key: Node, value: Node) -> re.Match[str] | None:
    """`type:int` read as one key with no value (no space after ':')."""
    if not isinstance(key, Scalar) or not isinstance(key.value, str):
        return None
    if not isinstance(value, Scalar) or value.value is not None:
        return None
    return re.match(_GLUED_KEY, key.text)


def _glued_effect(decl: Map) -> str:
    """What a glued `type:`/`default:` makes of the parameter: 'required and untyped', ''."""
    glued = {m[1] for m in (_glued(k, v) for k, v in decl.pairs) if m}
    lost = []
    if "default" in glued and decl.value("default") is None:
        lost.append("required")
    if "type" in glued and decl.value("type") is None:
        lost.append("untyped")
    return " and ".join(lost)


def _project_name(root: Map, problems: Problems) -> str | None:
    node = root.value("name")
    if node is None or (isinstance(node, Scalar) and node.value is None):
        return None
    if isinstance(node, Scalar) and isinstance(node.value, str):
        return node.value
    problems.warn_at(node, f"`name` should be a string, not {kind_name(node)}")
    return node.text if isinstance(node, Scalar) else None


def default_env(directory: Path) -> EnvDecl:
    """The environment the files imply when the MLproject declares none (or there is none)."""
    for filename, kind in DEFAULT_ENV_FILES:
        path = directory / filename
        if path.is_file():
            return EnvDecl(kind, path)
    return EnvDecl("local")


# -- environment ----------------------------------------------------------------------------


class _Environment:
    """Reads docker_env / python_env / conda_env with MLflow's exclusivity and precedence."""

    def __init__(self, directory: Path, problems: Problems) -> None:
        self.directory = directory
        self.problems = problems

    def read(self, root: Map) -> EnvDecl:
        declared = [pair for pair in map(root.get, ENV_KEYS) if pair is not None]
        if len(declared) > 1:
            in_file = sorted((key for key, _ in declared), key=lambda k: (k.line, k.col))
            names = ", ".join(str(key.value) for key in in_file)
            self.problems.error_at(
                in_file[1], f"the project declares several environments ({names}); keep only one"
            )
        for key, value in declared:
            # MLflow skips an empty section and looks at the next one
            if (isinstance(value, Scalar) and not value.value) or (
                isinstance(value, (Map, Seq)) and not value.size > 1
            ):
                self.problems.warn_at(key, f"`{key.value}` is empty and ignored")
                continue
            if key.value == "docker_env":
                return EnvDecl("docker", None, self.docker(value))
            return self.env_file(key, value)
        return default_env(self.directory)

    def env_file(self, key: Scalar, value: Node) -> EnvDecl:
        kind: EnvKind = "python" if key.value == "python_env" else "conda"
        if not isinstance(value, Scalar) or not isinstance(value.value, str):
            example = "python_env.yaml" if kind == "python" else "conda.yaml"
            self.problems.error_at(
                value,
                f"`{key.value}` must name a file (for example "
                f"`{key.value}: {example}`), not {kind_name(value)}",
            )
            return EnvDecl(kind, None)
        # os.path.join as MLflow does: an absolute path stays absolute
        path = Path(os.path.abspath(os.path.join(self.directory, value.value)))
        what = "python_env file" if kind == "python" else "conda environment file"
        if not path.exists():
            self.problems.error_at(
                value,
                f"Project specified {what} {path}, but no such file was found."
                f"{_other_spelling(path)}",
            )
        elif not path.is_file():
            self.problems.error_at(value, f"the {what} {path} is not a file")
        return EnvDecl(kind, path)

    def docker(self, node: Node) -> DockerEnv | None:
        if not isinstance(node, Map):
            fix = f" with `image: {node.text}`" if isinstance(node, Scalar) else ""
            self.problems.error_at(
                node,
                f"docker_env must be a mapping{fix} (`image`, "
                f"`volumes`, `environment`), not {kind_name(node)}",
            )
            return None
        unknown_keys(node, DOCKER_KEYS, "in docker_env", self.problems)
        image = node.value("image")
        if not isinstance(image, Scalar) or not image.value:
            self.problems.error_at(
                image or node,
                "Docker environment specified but no image "
                "attribute found; add `image: NAME[:TAG]` under docker_env",
            )
            name = ""
        elif not isinstance(image.value, str):
            self.problems.error_at(image, f"docker image must be a string, not {kind_name(image)}")
            name = image.text
        else:
            name = image.value
        return DockerEnv(name, self.volumes(node), self.environment(node), self.gpus(node))

    def volumes(self, node: Map) -> tuple[str, ...]:
        value = node.value("volumes")
        if value is None or (isinstance(value, Scalar) and not value.value):
            return ()
        if isinstance(value, Seq):
            texts = [v.value for v in value.items if isinstance(v, Scalar)]
            if len(texts) == len(value.items) and all(isinstance(t, str) for t in texts):
                return tuple(str(t) for t in texts)
        self.problems.error_at(value, _VOLUMES_SHAPE)
        return ()

    def environment(self, node: Map) -> tuple[tuple[str, str | None], ...]:
        value = node.value("environment")
        if value is None or (isinstance(value, Scalar) and not value.value):
            return ()
        if not isinstance(value, Seq):
            self.problems.error_at(value, _ENVIRONMENT_SHAPE)
            return ()
        result: list[tuple[str, str | None]] = []
        for item in value.items:
            if isinstance(item, Scalar) and isinstance(item.value, str):
                result.append((item.value, None))
                continue
            pair = item.items if isinstance(item, Seq) else []
            if len(pair) >= 2 and isinstance(pair[0], Scalar) and isinstance(pair[1], Scalar):
                if len(pair) > 2:
                    self.problems.warn_at(item, "items after [NAME, value] are ignored")
                result.append((_text(pair[0]), _text(pair[1])))
            else:
                self.problems.error_at(item, _ENVIRONMENT_SHAPE)
        return tuple(result)

    def gpus(self, node: Map) -> str | None:
        value = node.value("gpus")
        if value is None or (isinstance(value, Scalar) and value.value is None):
            return None
        if isinstance(value, Scalar):
            v = value.value
            if v == "all" or (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                return str(v)
        self.problems.error_at(
            value, f'gpus must be "all" or a number of GPUs, not {kind_name(value)}'
        )
        return None


# -- entry points ---------------------------------------------------------------------------


class _EntryPoints:
    """Reads `entry_points`; path defaults are checked against the project directory."""

    def __init__(self, directory: Path, problems: Problems) -> None:
        self.directory = directory
        self.problems = problems

    def read(self, root: Map) -> dict[str, EntryPoint]:
        node = root.value("entry_points")
        if node is None:
            return {}
        if not isinstance(node, Map):
            fix = "; remove the '-' before each name" if isinstance(node, Seq) else ""
            must = "a mapping of names to {command, parameters}"
            self.wrong_kind(node, "entry_points", must, fix)
            return {}
        result: dict[str, EntryPoint] = {}
        for name_node, body in node.pairs:
            name = name_node.value if isinstance(name_node.value, str) else name_node.text
            if not isinstance(name_node.value, str):
                self.problems.warn_at(
                    name_node, f"entry point name {name_node.text} is not a string; quote it"
                )
            entry_point = self.entry_point(name, name_node, body)
            if entry_point is not None:
                result[name] = entry_point
        return result

    def wrong_kind(self, node: Node, what: str, must: str, fix: str) -> None:
        """An error for a value of the wrong kind: what it must be, what it is, the fix."""
        self.problems.error_at(node, f"{what} must be {must}, not {kind_name(node)}{fix}")

    def entry_point(self, name: str, key: Scalar, body: Node) -> EntryPoint | None:
        if not isinstance(body, Map):
            fix = ""
            if isinstance(body, Scalar) and isinstance(body.value, str):
                fix = f"; write `{name}:` and under it `command: {body.value!r}`"
            must = "a mapping with `command` (and `parameters`)"
            self.wrong_kind(body, f"entry point '{name}'", must, fix)
            return None
        unknown_keys(body, ENTRY_POINT_KEYS, f"in entry point '{name}'", self.problems)
        parameters = self.parameters(name, body)
        # a parameter declared badly is still declared: no second error for its placeholder
        declared = body.value("parameters")
        names = [str(k.value) for k, _ in declared.pairs] if isinstance(declared, Map) else []
        command, error = _command(name, body, names)
        if error:
            self.problems.defer_at(body.value("command") or key, error)
        return EntryPoint(name, command, parameters, error=error)

    def parameters(self, ep: str, body: Map) -> tuple[Parameter, ...]:
        pair = body.get("parameters")
        if pair is None:
            return ()
        key, node = pair
        if isinstance(node, Scalar) and node.value is None:
            self.problems.error_at(
                key,
                f"`parameters:` of entry point '{ep}' is empty; "
                "declare parameters under it or remove the line",
            )
            return ()
        if not isinstance(node, Map):
            fix = "; remove the '-' before each parameter" if isinstance(node, Seq) else ""
            self.wrong_kind(
                node, f"parameters of entry point '{ep}'", "a mapping of names to types", fix
            )
            return ()
        result = []
        for name_node, decl in node.pairs:
            name = name_node.value if isinstance(name_node.value, str) else name_node.text
            param = self.parameter(f"parameter '{name}' of entry point '{ep}'", name, decl)
            if param is not None:
                result.append(param)
        return tuple(result)

    def parameter(self, where: str, name: str, decl: Node) -> Parameter | None:
        if isinstance(decl, Scalar) and isinstance(decl.value, str):
            return self.typed(name, decl.value, decl, None)
        if not isinstance(decl, Map):
            fix = "; write a type such as `string`, or `{type: ..., default: ...}`"
            if isinstance(decl, Scalar) and decl.value is not None:
                fix = f"; for a default write `{{type: ..., default: {decl.text}}}`"
            must = "a type name or a mapping with `type` and `default`"
            self.wrong_kind(decl, where, must, fix)
            return None
        effect = _glued_effect(decl)
        consequence = f"; the parameter is therefore {effect}" if effect else ""
        unknown_keys(decl, PARAM_KEYS, f"in {where}", self.problems, glued_consequence=consequence)
        type_node = decl.value("type")
        type_name = "string"
        if isinstance(type_node, Scalar) and isinstance(type_node.value, str):
            type_name = type_node.value
        elif type_node is not None:
            self.problems.warn_at(
                type_node,
                f"the type of {where} should be a type name, "
                f"not {kind_name(type_node)}; treated as string",
            )
        param = self.typed(name, type_name, type_node or decl, decl.value("default"))
        if effect:
            note = (
                f"it is {effect} because its declaration has no space after ':' "
                "(`mlproj validate` shows where)"
            )
            param = replace(param, note=note)
        return param

    def typed(self, name: str, type_name: str, type_node: Node, default: Node | None) -> Parameter:
        kind = kind_of(type_name)
        if kind is None:
            self.problems.warn_at(type_node, unknown_type_message(type_name))
        value = None if default is None else yamltree.to_python(default)
        param = Parameter(name, type_name, kind or "string", value)
        if default is not None and not self.check_default(param, default):
            # the project's own default breaks its type (MLflow's BertNewsClassification:
            # int `devices` defaulting to "auto"): any value is passed, as MLflow passes it
            param = replace(param, kind="string")
        return param

    def check_default(self, param: Parameter, node: Node) -> bool:
        """Warn about a default that is probably a mistake; False when it breaks the type."""
        value = param.default
        if isinstance(node, Scalar) and node.plain and value in ("None", "NULL", "Null"):
            self.problems.warn_at(
                node,
                f"default {value} of parameter '{param.name}' is the "
                f'string "{value}"; write `null` (or leave `default` out) for '
                "a required parameter, or quote it to keep the text",
            )
        elif isinstance(value, (list, dict)):
            self.problems.warn_at(
                node,
                f"default of parameter '{param.name}' is "
                f"{kind_name(node)}; it is passed as the text {value!s}",
            )
        elif isinstance(node, Scalar) and _retyped(node, param):
            self.problems.warn_at(
                node,
                f"default {node.text} of parameter '{param.name}' is "
                f"read by YAML 1.1 as {type(value).__name__} {value!r} and "
                f'passed as "{value}"; quote it to keep the text',
            )
        elif param.kind == "path" and isinstance(value, str):
            self.check_path_default(param.name, value, node)
        elif value is not None and param.kind in ("float", "int", "bool", "uri"):
            reason = value_problem(param.kind, str(value))
            if reason:
                self.problems.warn_at(
                    node,
                    f"default {str(value)!r} of {param.kind} parameter '{param.name}' is "
                    f"{reason}; the parameter is therefore treated as untyped (any -P value "
                    "is passed through, as MLflow does)",
                )
                return False
        return True

    def check_path_default(self, name: str, value: str, node: Node) -> None:
        local = local_path(value)
        if local is None:
            return
        path = self.directory / local  # a relative default is relative to the project
        if not path.exists():
            self.problems.warn_at(
                node,
                f"default {value!r} of path parameter '{name}' does "
                f"not exist ({path}); a run that uses the default fails",
            )
        elif is_lfs_pointer(path):
            self.problems.warn_at(
                node,
                f"default {value!r} of path parameter '{name}' is a "
                "Git LFS pointer, not the data; run `git lfs pull`",
            )


def _command(name: str, body: Map, declared: list[str]) -> tuple[str, str | None]:
    """The command template, and why it cannot run (None when it can)."""
    node = body.value("command")
    if node is None:
        return "", f"entry point '{name}' has no `command`"
    if not isinstance(node, Scalar) or not isinstance(node.value, str):
        fix = "; write the command as one string" if isinstance(node, Seq) else ""
        return (
            "",
            f"the command of entry point '{name}' must be a string, not {kind_name(node)}{fix}",
        )
    if not node.value.strip():
        return node.value, f"the command of entry point '{name}' is empty"
    found = template_problems(node.value, declared)
    if found:
        return node.value, f"entry point '{name}': " + "; ".join(found)
    return node.value, None


def _retyped(node: Scalar, param: Parameter) -> bool:
    """A plain default whose text YAML 1.1 turns into something else: 010 is 8, 1:30 is 90,
    on is True (which only a bool parameter expects)."""
    if not node.plain or isinstance(node.value, str):
        return False
    if isinstance(node.value, bool):
        return param.kind != "bool"
    if isinstance(node.value, int):
        return str(node.value) != node.text.lstrip("+")
    return False


def _text(node: Scalar) -> str:
    return node.value if isinstance(node.value, str) else str(node.value)  # str() as MLflow


def is_lfs_pointer(path: Path) -> bool:
    try:
        return read_regular(path, len(yamltree.LFS_POINTER)) == yamltree.LFS_POINTER
    except OSError:
        return False
