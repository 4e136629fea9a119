"""The doctor's first line: does the config file load, and does it list servers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.config import CONFIG_ENV, DEFAULT_CONFIG, Config, ConfigError, load_config
from bot.i18n import catalog
from bot.terminal.doctor.findings import Finding, Outcome
from checks.i18n import Catalog, Lang


def config_source(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file load_config reads: path, else $BACKUPCHECK_CONFIG, else ./backupcheck.yaml."""
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    return path


def check_config(
    path: Path | None, environ: Mapping[str, str], lang: Lang | None
) -> tuple[Config | None, Catalog, list[Finding]]:
    """The config (None when it does not parse), the catalog to speak (lang, else the
    config's language) and what is wrong with the config, if anything."""
    source = config_source(path, environ)
    try:
        config = load_config(source, environ)
    except ConfigError as error:
        t = catalog(lang or "en")
        name = t.text("doctor.check.config")
        return None, t, [Finding(name, Outcome.FAILED, str(error), t.text("doctor.fix.config"))]
    t = catalog(lang or config.language)
    name = t.text("doctor.check.config")
    if source is None:
        missing = t.text("doctor.config_missing", variable=CONFIG_ENV, default=DEFAULT_CONFIG)
        fix = t.text("doctor.fix.config_missing")
        return config, t, [Finding(name, Outcome.FAILED, missing, fix)]
    count = len(config.servers)
    findings = [Finding(name, Outcome.PASSED, t.text("doctor.config_ok", path=source, count=count))]
    if not count:
        findings.append(
            Finding(
                t.text("doctor.check.servers"),
                Outcome.FAILED,
                t.text("doctor.no_servers"),
                t.text("doctor.fix.no_servers"),
            )
        )
    return config, t, findings
