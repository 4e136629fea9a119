"""Which servers a command is about: names from the config, or all of them, checked up front."""

from __future__ import annotations

import os
import re
from pathlib import Path

from bot.config import Config
from bot.terminal.console import fail
from bot.terminal.doctor.config import config_source
from checks.i18n import Catalog
from checks.inventory import SERVER_NAME_PATTERN, Server

SERVER_NAME = re.compile(SERVER_NAME_PATTERN)


def chosen_servers(
    settings: Config, names: list[str], all_servers: bool, t: Catalog, path: Path | None
) -> list[Server]:
    """The servers to check; unknown names stop everything before any host is contacted."""
    if all_servers and names:
        fail(t.text("error.all_and_names"))
    if not all_servers and not names:
        fail(t.text("error.nothing_to_check"))
    if not settings.servers:
        # Without a file every name is unknown: say where a config was looked for instead.
        found = config_source(path, os.environ) is not None
        fail(t.text("error.no_servers") if found else t.text("error.no_config"))
    if all_servers:
        return settings.resolved()
    targets: list[Server] = []
    for name in names:
        if not SERVER_NAME.fullmatch(name):
            fail(t.text("error.not_a_server_name", name=name[:80]))
        server = settings.find(name)
        if server is None:
            hint = settings.suggest(name)
            key = "error.unknown_server_hint" if hint else "error.unknown_server"
            fail(t.text(key, name=name, hint=hint))
        if server not in targets:
            targets.append(server)
    return targets
