"""The pieces of the virtualenv manager: pip config, python requests, requirement lines, conda."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlproj.envs.virtualenv import pipconf, pythons, requirements
from mlproj.envs.virtualenv.request import from_conda
from mlproj.errors import EnvError
from mlproj.spec.envfiles import CondaEnv

# -- pip configuration ---------------------------------------------------------------------


def _environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A HOME and XDG dirs of our own, so that only /etc/pip.conf is shared with the machine."""
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_DIRS": str(tmp_path / "xdg"), **extra}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_pip_files_in_pips_order(tmp_path: Path) -> None:
    _write(
        tmp_path / "xdg" / "pip" / "pip.conf",
        "[global]\nindex-url = https://global.example/simple\nfind-links = /g\n",
    )
    _write(
        tmp_path / "home" / ".config" / "pip" / "pip.conf",
        "[global]\nindex-url = https://user.example/simple\n"
        "extra-index-url =\n  https://a.example/simple\n  https://b.example/simple\n"
        "[install]\nno_index = yes\n",
    )
    config = pipconf.read_pip_config(_environ(tmp_path))
    assert config.index_url == "https://user.example/simple"  # user over global
    assert config.extra_index_urls == ("https://a.example/simple", "https://b.example/simple")
    assert config.find_links == ("/g",)
    assert config.no_index is True  # [install] section, underscore spelling


def test_pip_variables_win_and_pip_config_file(tmp_path: Path) -> None:
    _write(tmp_path / "home" / ".pip" / "pip.conf", "[global]\nindex-url = https://user/simple\n")
    explicit = _write(tmp_path / "explicit.conf", "[global]\nconstraint = c.txt\n")
    env = _environ(
        tmp_path, PIP_CONFIG_FILE=str(explicit), PIP_FIND_LINKS="/a file:///b", PIP_NO_INDEX="0"
    )
    config = pipconf.read_pip_config(env)
    assert config.index_url is None  # the user file is skipped when PIP_CONFIG_FILE exists
    assert config.constraints == (str(Path("c.txt").absolute()),)
    assert config.find_links == ("/a", "file:///b")
    assert config.no_index is False
    assert pipconf.read_pip_config({**env, "PIP_CONFIG_FILE": os.devnull}).constraints == ()


def test_translation_respects_users_uv_settings() -> None:
    config = pipconf.PipIndexConfig(
        index_url="https://mirror/simple",
        extra_index_urls=("https://x/simple",),
        find_links=("/w1", "/w2"),
        no_index=True,
        constraints=("/c.txt",),
    )
    full = pipconf.uv_settings(config, {})
    assert full.env == {
        "UV_INDEX_URL": "https://mirror/simple",
        "UV_EXTRA_INDEX_URL": "https://x/simple",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
        "UV_FIND_LINKS": "/w1,/w2",
        "UV_CONSTRAINT": "/c.txt",
    }
    assert full.args == ("--no-index",)
    mine = {
        "UV_DEFAULT_INDEX": "https://uv/simple",
        "UV_FIND_LINKS": "/mine",
        "UV_INDEX_STRATEGY": "first-index",
    }
    partial = pipconf.uv_settings(config, mine)
    assert "UV_INDEX_URL" not in partial.env and "UV_FIND_LINKS" not in partial.env
    assert "UV_INDEX_STRATEGY" not in partial.env
    own_index = pipconf.uv_settings(config, {}, project_sets_index=True)
    assert "UV_INDEX_URL" not in own_index.env


def test_credentials_are_redacted_in_descriptions() -> None:
    settings = pipconf.UvIndexSettings(env={"UV_INDEX_URL": "https://bob:s3cret@mirror/simple"})
    assert settings.describe()["env"] == {"UV_INDEX_URL": "https://***@mirror/simple"}


# -- python requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "request_", "ok"),
    [
        ("3.11.7", "3.11", True),
        ("3.11.7", "3.11.7", True),
        ("3.11.7", "3.11.6", False),
        ("3.11.7", "3", True),
        ("3.11.7", "3.1", False),
        ("3.11.7", "==3.11.*", True),
        ("3.11.7", ">=3.10,<3.12", True),
        ("3.12.1", ">=3.10,<3.12", False),
        ("3.11.7", "~=3.10", True),
        ("3.11.7", "!=3.11.7", False),
        ("3.11.7", "python3.11", True),
        ("3.11.7", ">3.11", True),  # 3.11.7 > 3.11.0, as in PEP 440
    ],
)
def test_python_request_matching(version: str, request_: str, ok: bool) -> None:
    assert pythons.matches(version, request_) is ok


@pytest.mark.parametrize("bad", ["latest", "3.x", "", ">=three"])
def test_bad_python_request_is_refused(bad: str) -> None:
    with pytest.raises(EnvError, match="not understood"):
        pythons.parse_request(bad)


# -- requirement lines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("-r requirements.txt", ("-r", "requirements.txt")),
        ("-rreq.txt", ("-r", "req.txt")),
        ("--requirement=sub/req.txt  # pinned", ("-r", "sub/req.txt")),
        ("-c constraints.txt", ("-c", "constraints.txt")),
        ("--constraint c.txt", ("-c", "c.txt")),
        ("requests>=2", None),
        ("--require-hashes", None),
        ("# -r commented.txt", None),
    ],
)
def test_file_option(line: str, expected: tuple[str, str] | None) -> None:
    assert requirements.file_option(line) == expected


def test_referenced_files_are_nested_and_relative_to_their_file(tmp_path: Path) -> None:
    _write(tmp_path / "req.txt", "a\n-r sub/more.txt\n")
    _write(tmp_path / "sub" / "more.txt", "b\n-c pins.txt\n")
    _write(tmp_path / "sub" / "pins.txt", "b==1\n")
    found = requirements.referenced_files(["x", "-r req.txt"], tmp_path, "python_env.yaml")
    assert [(f.option, f.path.name) for f in found] == [
        ("-r", "req.txt"),
        ("-r", "more.txt"),
        ("-c", "pins.txt"),
    ]
    assert requirements.rewrite(["-r req.txt", "x"], tmp_path) == [
        f"-r {tmp_path / 'req.txt'}",
        "x",
    ]
    with pytest.raises(EnvError, match=r"missing\.txt"):
        requirements.referenced_files(["-r missing.txt"], tmp_path, "python_env.yaml")


def test_project_index_option_is_detected() -> None:
    assert requirements.sets_index(["--index-url https://x/simple", "a"])
    assert requirements.sets_index(["-i https://x/simple"])
    assert not requirements.sets_index(["--extra-index-url https://x/simple", "a"])


# -- conda.yml converted -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deps", "python", "build"),
    [
        (
            ("python=3.11", "pip=23.0", "setuptools", "wheel>=0.40"),
            "3.11",
            ("pip==23.0", "setuptools", "wheel>=0.40"),
        ),
        (("python==3.11.7",), "3.11.7", ()),
        (("python>=3.10",), ">=3.10", ()),
        (("conda-forge::python=3.11.7=h1234_0",), "3.11.7", ()),
        (("python 3.11.*", "pip 23.0"), "3.11.*", ("pip==23.0",)),
    ],
)
def test_conda_conversion(deps: tuple[str, ...], python: str, build: tuple[str, ...]) -> None:
    env, warnings = from_conda(CondaEnv(dependencies=deps, pip=("six",)), "conda.yaml")
    assert (env.python, env.build_dependencies, env.dependencies) == (python, build, ("six",))
    assert warnings == []


def test_conda_conversion_warns() -> None:
    env, warnings = from_conda(CondaEnv(dependencies=("numpy", "scipy=1.11")), "conda.yml")
    assert env.python is None
    assert any("does not pin python" in w for w in warnings)
    assert any("numpy, scipy=1.11" in w for w in warnings)
