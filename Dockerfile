# syntax=docker/dockerfile:1
# AimTrack in a container: the bot, the job worker and the web page (/health) in one process.
# Build: docker compose build (or: docker build -t aimtrack:local .). See docs/operations.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a wheel of AimTrack, installed with the pinned dependencies into a venv ----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps everything else, .env included, out).
COPY pyproject.toml constraints.txt README.md ./
COPY aimtrack ./aimtrack
RUN python -m venv /opt/aimtrack \
    && /opt/aimtrack/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/aimtrack/bin/pip install --only-binary=:all: -c constraints.txt /wheels/aimtrack-*.whl
# The wheel must carry its package data: the PDF fonts and the migrations. Fail the build if not.
RUN /opt/aimtrack/bin/python -c "\
from importlib.resources import files; \
fonts = files('aimtrack.exports') / 'fonts'; \
migrations = files('aimtrack.storage') / 'migrations' / 'versions'; \
assert (fonts / 'DejaVuSansCondensed.ttf').is_file(), 'fonts missing from the wheel'; \
assert (fonts / 'DejaVuSansCondensed-Bold.ttf').is_file(), 'fonts missing from the wheel'; \
assert (fonts / 'LICENSE.txt').is_file(), 'font licence missing from the wheel'; \
assert any(p.name.endswith('.py') for p in migrations.iterdir()), 'migrations missing'"

# --- runtime: the venv on a slim Python, run by an unprivileged user -------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="AimTrack" \
      org.opencontainers.image.description="A self-hosted, privacy-first shooting log you talk to"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/aimtrack/bin:$PATH \
    AIMTRACK_DATA_DIR=/data \
    AIMTRACK_WEB_HOST=0.0.0.0 \
    AIMTRACK_WEB_PORT=8080 \
    MPLCONFIGDIR=/home/aimtrack/.cache/matplotlib

# pg_dump, pg_restore and psql for `aimtrack backup` and `aimtrack restore` on PostgreSQL
# (docs/backup.md). pg_dump must be of the server's major version or newer: Debian 12's client
# is 15, the version of the db service in docker-compose.yml.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric id, so a bind-mounted data folder can be chowned to it (chown 10001:10001).
RUN groupadd --system --gid 10001 aimtrack \
    && useradd --system --uid 10001 --gid aimtrack --home-dir /home/aimtrack --create-home \
        --shell /usr/sbin/nologin aimtrack \
    && install -d -o aimtrack -g aimtrack -m 0750 /data \
    && install -d -o aimtrack -g aimtrack /home/aimtrack/.cache/matplotlib

COPY --from=build /opt/aimtrack /opt/aimtrack

USER 10001:10001
# matplotlib (the /statistieken charts) builds its font cache on first import; do it now, as
# the user that runs AimTrack, so the first chart does not pay for it.
RUN python -c "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot"

# Relative paths (aimtrack export --out FILE, backups) land in the data volume.
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

# /health answers 200 while the database does, 503 when it does not (urlopen then raises).
# It starts once the Telegram Bot API has answered, hence the start period.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", \
         "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('AIMTRACK_WEB_PORT', '8080'), timeout=8)"]

ENTRYPOINT ["aimtrack"]
CMD ["run"]
