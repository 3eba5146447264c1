# Minimal image of Madoguchi for the scale mode (docs/deploy.md, section 8).
# NOT built or run on the development machine (no Docker there): check it before use.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MADOGUCHI_DATA_DIR=/data MADOGUCHI_STATIC_ROOT=/static MADOGUCHI_HOST=0.0.0.0 MADOGUCHI_PORT=8000
# pg_dump for `madoguchi backup` on PostgreSQL; Pango and the Noto CJK fonts for the case PDF (WeasyPrint)
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 1000 --home /srv/madoguchi madoguchi \
    && mkdir -p /data /static && chown madoguchi /data /static
WORKDIR /srv/madoguchi
COPY pyproject.toml README.md ./
COPY madoguchi ./madoguchi
# ja-ginza without its dependencies: the classifier reads its word-vector files only (bin/_env.sh)
RUN pip install --no-cache-dir . && pip install --no-cache-dir --no-deps ja-ginza==5.3.0 \
    && madoguchi collectstatic --noinput && rm -rf /data/*
USER madoguchi
EXPOSE 8000 2525
CMD ["madoguchi", "serve", "--no-worker"]
