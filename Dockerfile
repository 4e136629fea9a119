# syntax=docker/dockerfile:1
#
# backupcheck: the Slack bot (the default command) and the CLI, in one small image.
#
#   docker build -t backupcheck .
#   docker run -d --name backupcheck \
#     -v "$PWD/backupcheck.yaml:/etc/backupcheck/backupcheck.yaml:ro" \
#     -v backupcheck-data:/var/lib/backupcheck \
#     -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN backupcheck
#   docker run --rm --no-healthcheck -v "$PWD/backupcheck.yaml:/etc/backupcheck/backupcheck.yaml:ro" \
#     backupcheck check --all
#
# docs/docker.md has the details: secrets, Compose, health checks, stopping gracefully.

# ---- build: the virtual environment, from the lock file, exactly as CI installs it ----------
FROM python:3.13-slim-trixie AS build

# The system Python of the base image (the final stage has the same one), never a download;
# byte-compiled at build time, as a copy rather than hard links into uv's cache.
ENV UV_PYTHON=/usr/local/bin/python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/backupcheck \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# The uv that CI uses (.ci/run), so the image installs what CI tested.
RUN python -m pip install "uv==0.13.9"

WORKDIR /src

# The dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-editable --no-install-project

# Then the project itself, as a regular install: the environment needs no source tree.
COPY README.md ./
COPY checks ./checks
COPY bot ./bot
RUN uv sync --frozen --no-dev --no-editable

# ---- the image: Python, the virtual environment and a non-root user; no build tools ---------
FROM python:3.13-slim-trixie

LABEL org.opencontainers.image.title="backupcheck" \
      org.opencontainers.image.description="Finds Windows Server Backup volumes that are too full for a VSS snapshot, before the backup window." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT"

# The configuration is mounted here (read-only is enough); tokens and passwords come from the
# environment or from files under /run/secrets/, never from the image.
ENV PATH=/opt/backupcheck/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BACKUPCHECK_CONFIG=/etc/backupcheck/backupcheck.yaml

# A fixed UID/GID, so a host directory or a volume can be given to it ahead of time.
RUN groupadd --system --gid 10001 backupcheck \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /var/lib/backupcheck --shell /usr/sbin/nologin backupcheck \
 && install --directory --mode=0755 /etc/backupcheck \
 && install --directory --owner=backupcheck --group=backupcheck --mode=0750 /var/lib/backupcheck

COPY --from=build /opt/backupcheck /opt/backupcheck

# The SQLite database (storage.url's default, sqlite:///backupcheck.db) is relative to the
# working directory, so it lands on the volume.
WORKDIR /var/lib/backupcheck
VOLUME /var/lib/backupcheck

USER 10001:10001

# On SIGTERM `serve` gives running checks alerts.shutdown_grace_s (20 s), then flushes the
# outbox: give `docker stop` about 30 s (--time, or stop_grace_period in Compose; docs/docker.md).
STOPSIGNAL SIGTERM

# Healthy: the running bot says Slack is connected and the scheduler runs (slack.health_port).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["backupcheck", "health"]

ENTRYPOINT ["backupcheck"]
CMD ["serve"]
