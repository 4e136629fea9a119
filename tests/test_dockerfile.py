"""The Dockerfile builds the image the docs describe: CI's install, a non-root bot, a volume.

No Docker engine runs here, so the Dockerfile is parsed (a small parser below) and read.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.main
from packaging.specifiers import SpecifierSet
from typer.core import TyperGroup

from bot.config import CONFIG_ENV, StorageSettings
from bot.terminal.cli import app

ROOT = Path(__file__).parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CI_SCRIPT = ROOT / ".ci" / "run"
PYPROJECT = ROOT / "pyproject.toml"

CONFIG_PATH = "/etc/backupcheck/backupcheck.yaml"
DATA_DIR = "/var/lib/backupcheck"
# What the image may add to CI's `uv sync`: leave out dev tools, install the project as a wheel
# rather than a link to the source, or install the dependencies alone in a layer of their own.
IMAGE_ONLY_SYNC_FLAGS = {"--no-dev", "--no-editable", "--no-install-project", "--compile-bytecode"}
OFFICIAL_SLIM_PYTHON = re.compile(
    r"^(?:docker\.io/)?(?:library/)?python:(?P<version>3\.\d+(?:\.\d+)?)-slim(?:-[a-z]+)?"
    r"(?:@sha256:[0-9a-f]{64})?$"
)
SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}
GLOB = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}


# --- A small Dockerfile parser --------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One instruction: keyword, its --flags, and its arguments (exec form when JSON)."""

    keyword: str
    flags: dict[str, str]
    args: str
    line: int

    @property
    def exec_form(self) -> list[str] | None:
        """The arguments as a JSON array of strings, or None for the shell form."""
        return _exec_form(self.args)


@dataclass
class Stage:
    """A build stage: its FROM image, its name, and its instructions after FROM."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """This stage's instructions with the keyword, in order."""
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """The stage's ENV settings, later ones winning."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            values.update(_env_pairs(instruction.args))
        return values

    def commands(self) -> list[list[str]]:
        """Every simple command of the stage's RUN instructions, as argument lists."""
        return [command for run in self.all("RUN") for command in _shell_commands(run.args)]


def _exec_form(args: str) -> list[str] | None:
    if not args.startswith("["):
        return None
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None  # Docker too runs a malformed JSON array through the shell
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations; drop comment and blank lines, also inside continuations."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(raw.rstrip()[:-1])
            continue
        pending.append(raw)
        lines.append((start, " ".join(part.strip() for part in pending)))
        pending = []
    assert not pending, "the Dockerfile ends inside a line continuation"
    return lines


def _split_flags(rest: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    while match := re.match(r"--([a-z-]+)(?:=(\S*))?\s+", rest):
        flags[match[1]] = match[2] or ""
        rest = rest[match.end() :]
    return flags, rest


def parse_dockerfile(text: str) -> list[Stage]:
    """The Dockerfile's stages, each with its instructions."""
    stages: list[Stage] = []
    for number, line in _logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        assert "<<" not in rest, f"line {number}: heredocs are not supported by this parser"
        flags, args = _split_flags(rest.strip())
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif keyword != "ARG" or stages:
            assert stages, f"line {number}: {keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, flags, args, number))
    return stages


def _env_pairs(args: str) -> dict[str, str]:
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: args.split(None, 1)[1]}  # the legacy `ENV KEY value` form
    return dict(word.split("=", 1) for word in words)


def _shell_commands(script: str) -> list[list[str]]:
    """Split a shell-form command line into its simple commands (at &&, ||, ;, |)."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in SHELL_OPERATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def _is_uv_sync(command: list[str]) -> bool:
    return command[:2] == ["uv", "sync"]


def _uv_pin(commands: list[list[str]]) -> str:
    """The uv version that `pip install uv==X` installs among these commands."""
    pins = [
        word.removeprefix("uv==")
        for command in commands
        if "pip" in command and "install" in command
        for word in command
        if word.startswith("uv==")
    ]
    assert len(pins) == 1, f"expected one pinned `pip install uv==X`, found {pins}"
    return pins[0]


# --- What the tests read ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    """The Dockerfile's stages."""
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    """The stage that becomes the image."""
    return stages[-1]


@pytest.fixture(scope="module")
def build(stages: list[Stage]) -> Stage:
    """The stage that installs the project (the one running `uv sync`)."""
    (stage,) = [s for s in stages if any(_is_uv_sync(c) for c in s.commands())]
    return stage


@pytest.fixture(scope="module")
def ci_commands() -> list[list[str]]:
    """The commands of .ci/run, one per line."""
    lines = CI_SCRIPT.read_text(encoding="utf-8").splitlines()
    return [words for line in lines if (words := shlex.split(line, comments=True))]


def _pyproject() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return project


def _console_script() -> str:
    scripts = _pyproject()["scripts"]
    assert isinstance(scripts, dict)
    (name,) = scripts
    assert isinstance(name, str)
    return name


def _created_user(final: Stage) -> tuple[set[str], set[str]]:
    """The names and ids the final stage gives the user useradd creates, and its group."""
    (useradd,) = [c for c in final.commands() if c[0] == "useradd"]
    (groupadd,) = [c for c in final.commands() if c[0] == "groupadd"]
    user = {useradd[-1], useradd[useradd.index("--uid") + 1]}
    group = {groupadd[-1], groupadd[groupadd.index("--gid") + 1]}
    assert useradd[useradd.index("--gid") + 1] in group
    return user, group


# --- The base image and the stages -----------------------------------------------------------


def test_every_base_image_is_an_official_slim_python_pinned_to_a_version(
    stages: list[Stage],
) -> None:
    """Python comes from the official *-slim image, pinned to at least a minor version."""
    names = {stage.name for stage in stages if stage.name}
    for stage in stages:
        if stage.base not in names:
            assert OFFICIAL_SLIM_PYTHON.match(stage.base), stage.base


def test_the_image_python_is_one_the_project_supports(stages: list[Stage]) -> None:
    """The base image's Python satisfies pyproject's requires-python."""
    supported = SpecifierSet(_pyproject()["requires-python"])
    versions = [m["version"] for s in stages if (m := OFFICIAL_SLIM_PYTHON.match(s.base))]
    assert versions
    for version in versions:
        assert version in supported, version


def test_the_image_is_built_in_stages_and_the_final_one_starts_from_the_same_python(
    stages: list[Stage], build: Stage, final: Stage
) -> None:
    """Multi-stage; the copied virtual environment's interpreter exists in the final stage."""
    assert len(stages) >= 2
    assert build is not final
    assert final.base == build.base


# --- The install: CI's uv, CI's lock-based command -------------------------------------------


def test_the_build_installs_the_uv_version_ci_uses(
    build: Stage, ci_commands: list[list[str]]
) -> None:
    """`pip install uv==X` in the build stage pins the same X as .ci/run."""
    assert _uv_pin(build.commands()) == _uv_pin(ci_commands)


def test_the_install_command_is_cis_plus_only_image_flags(
    build: Stage, ci_commands: list[list[str]]
) -> None:
    """Each `uv sync` in the build is CI's (with --frozen) plus only flags that suit an image."""
    (ci_sync,) = [c for c in ci_commands if _is_uv_sync(c)]
    assert "--frozen" in ci_sync
    syncs = [c for c in build.commands() if _is_uv_sync(c)]
    assert syncs
    for sync in syncs:
        assert sync[: len(ci_sync)] == ci_sync
        assert set(sync[len(ci_sync) :]) <= IMAGE_ONLY_SYNC_FLAGS, sync


def test_the_project_itself_is_installed_without_dev_tools_and_not_as_a_link_to_the_source(
    build: Stage,
) -> None:
    """The last `uv sync` installs the project: --no-dev, --no-editable, the project included."""
    last = [c for c in build.commands() if _is_uv_sync(c)][-1]
    assert {"--no-dev", "--no-editable"} <= set(last)
    assert "--no-install-project" not in last


def test_the_build_uses_the_base_image_python_and_an_environment_outside_the_source(
    build: Stage,
) -> None:
    """uv never downloads a Python, and the environment lives where the final stage copies it."""
    env = build.env()
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert env["UV_PROJECT_ENVIRONMENT"].startswith("/opt/")


# --- The final stage: only the environment, no build tools, a non-root user ------------------


def test_the_final_stage_copies_only_the_virtual_environment(build: Stage, final: Stage) -> None:
    """Nothing from the build context: one COPY, of the environment, from the build stage."""
    assert not final.all("ADD")
    venv = build.env()["UV_PROJECT_ENVIRONMENT"]
    for copy in final.all("COPY"):
        assert copy.flags.get("from") == build.name, f"line {copy.line} copies the build context"
        assert copy.args.split() == [venv, venv]
    assert final.env()["PATH"].startswith(f"{venv}/bin:")


def test_the_final_stage_installs_nothing(final: Stage) -> None:
    """No package manager or compiler runs in the final stage, so none is left in the image."""
    tools = {"apt-get", "apt", "pip", "pip3", "uv", "gcc", "make"}
    for command in final.commands():
        assert not tools & set(command), command


def test_the_image_runs_as_the_non_root_user_it_creates(final: Stage) -> None:
    """The final stage's last USER is neither root nor 0, and is the user useradd creates."""
    user, group = _created_user(final)
    name, _, group_name = final.all("USER")[-1].args.partition(":")
    assert name not in {"root", "0"}
    assert name in user
    assert not group_name or group_name in group
    assert "0" not in user | group


def test_the_user_has_a_fixed_uid_and_gid(final: Stage) -> None:
    """Fixed ids, so a host directory can be given to the container's user ahead of time."""
    user, group = _created_user(final)
    assert any(ident.isdigit() and int(ident) >= 1000 for ident in user)
    assert any(ident.isdigit() and int(ident) >= 1000 for ident in group)


# --- How the image runs ----------------------------------------------------------------------


def test_the_entrypoint_is_the_console_script_and_the_default_command_serve(final: Stage) -> None:
    """ENTRYPOINT ["backupcheck"] and CMD ["serve"]: `docker run IMAGE check --all` works too."""
    (entrypoint,) = final.all("ENTRYPOINT")
    (cmd,) = final.all("CMD")
    assert entrypoint.exec_form == [_console_script()]
    assert cmd.exec_form == ["serve"]


def test_the_commands_the_image_runs_exist() -> None:
    """`serve` (the default command) and `health` (the health check) are CLI commands."""
    commands = typer.main.get_command(app)
    assert isinstance(commands, TyperGroup)
    assert {"serve", "health"} <= set(commands.commands)


def test_the_health_check_asks_the_running_bot(final: Stage) -> None:
    """HEALTHCHECK runs `backupcheck health` in exec form, with every timing given."""
    (check,) = final.all("HEALTHCHECK")
    kind, _, command = check.args.partition(" ")
    assert kind.upper() == "CMD"
    assert _exec_form(command.strip()) == [_console_script(), "health"]
    assert {"interval", "timeout", "start-period", "retries"} <= set(check.flags)
    assert _seconds(check.flags["timeout"]) < _seconds(check.flags["interval"])
    assert int(check.flags["retries"]) >= 1


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts, duration
    assert "".join(value + unit for value, unit in parts) == duration
    return sum(float(value) * units[unit] for value, unit in parts)


def test_docker_stop_sends_sigterm(final: Stage) -> None:
    """STOPSIGNAL SIGTERM: `serve` then finishes in-flight checks and flushes the outbox."""
    (signal,) = final.all("STOPSIGNAL")
    assert signal.args == "SIGTERM"


def test_the_config_is_read_from_the_documented_mount_point(final: Stage) -> None:
    """$BACKUPCHECK_CONFIG, which the bot reads, points at /etc/backupcheck/backupcheck.yaml."""
    assert final.env()[CONFIG_ENV] == CONFIG_PATH


def test_the_database_lives_on_a_volume_owned_by_the_user(final: Stage) -> None:
    """The default SQLite URL is relative, and the working directory is the volume."""
    assert StorageSettings().url == "sqlite:///backupcheck.db"
    (workdir,) = final.all("WORKDIR")
    (volume,) = final.all("VOLUME")
    assert workdir.args == DATA_DIR
    assert (volume.exec_form or volume.args.split()) == [DATA_DIR]
    user, group = _created_user(final)
    owners = [_owner(c) for c in final.commands() if DATA_DIR in c and c[0] in {"install", "chown"}]
    assert owners, f"nothing gives {DATA_DIR} to the user"
    for owner, group_of in owners:
        assert owner in user
        assert group_of in group
    # A volume keeps what the image had at its path when it is first created, ownership too:
    # the directory must be made before VOLUME.
    made = min(run.line for run in final.all("RUN") if DATA_DIR in run.args)
    assert made < volume.line


def _owner(command: list[str]) -> tuple[str, str]:
    """The user and group that `install -d --owner=U --group=G` or `chown U:G` sets."""
    if command[0] == "chown":
        owner, _, group = next(w for w in command[1:] if not w.startswith("-")).partition(":")
        return owner, group
    options = dict(w.removeprefix("--").partition("=")[::2] for w in command if w[:2] == "--")
    return options.get("owner", ""), options.get("group", "")


def test_python_output_is_unbuffered_so_logs_appear_at_once(final: Stage) -> None:
    """PYTHONUNBUFFERED=1: `docker logs` shows each line when it is written."""
    assert final.env()["PYTHONUNBUFFERED"] == "1"


def test_the_image_is_labelled_with_the_project_version(final: Stage) -> None:
    """The OCI version label is pyproject's version."""
    labels = {}
    for label in final.all("LABEL"):
        labels.update(_env_pairs(label.args))
    assert labels["org.opencontainers.image.version"] == _pyproject()["version"]
    assert labels["org.opencontainers.image.title"] == _pyproject()["name"]


# --- The build context -----------------------------------------------------------------------


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore's patterns leave the path (or a folder above it) out."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern_regex(pattern.removeprefix("!").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: ** spans folders, * and ? stay within one."""
    pieces = re.split(r"(\*\*/|\*\*|\*|\?|\[[^\]]*\])", pattern)
    return re.compile(
        "".join(
            GLOB.get(piece) or (piece if piece.startswith("[") else re.escape(piece))
            for piece in pieces
        )
    )


def _dockerignore() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        ".ci/tools/bin/uv",
        ".pytest_cache/v/cache/nodeids",
        ".hypothesis/examples/x",
        ".mypy_cache/3.11/bot/terminal/cli.meta.json",
        ".ruff_cache/CACHEDIR.TAG",
        "bot/terminal/__pycache__/cli.cpython-311.pyc",
        "backupcheck.db",
        "backupcheck.db-wal",
        "backupcheck.yaml",
    ],
)
def test_local_state_never_reaches_the_build_context(path: str) -> None:
    """VCS data, environments, caches, the local database and the local config stay out."""
    assert _ignored(path, _dockerignore())


def test_everything_the_build_copies_is_in_the_build_context(stages: list[Stage]) -> None:
    """Each COPY source from the context survives .dockerignore."""
    sources = [
        source
        for stage in stages
        for copy in stage.all("COPY")
        if "from" not in copy.flags
        for source in copy.args.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert not _ignored(source, _dockerignore()), source
        assert (ROOT / source).exists(), source
    for module in ("bot/terminal/cli.py", "checks/rules.py", "bot/storage/models.py"):
        assert not _ignored(module, _dockerignore()), module
