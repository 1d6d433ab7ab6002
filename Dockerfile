# The hub's image: one image for every role (`hub serve --role api|relay|worker`, `hub migrate`).
# Built from the repository root: docker build -t bailiff-hub .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY schemas ./schemas
COPY adapters ./adapters
COPY hub ./hub
COPY migrations ./migrations
# Installed in place (-e): `hub migrate` reads the Alembic revisions from ./migrations beside the
# package (hub/database.py). Owned by root, read-only to the user the hub runs as.
RUN pip install -e . \
    && useradd --system --uid 10001 --gid 0 --no-create-home --home-dir /nonexistent hub

USER 10001
ENV HUB_HOST=0.0.0.0 \
    HUB_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

ENTRYPOINT ["hub"]
CMD ["serve", "--role", "api"]
