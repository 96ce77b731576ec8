# The embedded service in a container, with the same commands as README.md.
# Chinese fonts make the demand-letter PDF embed real glyphs (see documents/letter_pdf.py).
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-arphic-uming fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
COPY processes ./processes
RUN python3 -m venv .venv && .venv/bin/pip install -e .

ENV XINEDAI_DATABASE_URL=sqlite:////app/var/xinedai.db \
    XINEDAI_PROCESSES_DIR=/app/processes \
    XINEDAI_MIGRATIONS_DIR=/app/migrations
EXPOSE 8000
VOLUME ["/app/var"]
CMD [".venv/bin/xinedai-workflow", "serve", "--host", "0.0.0.0", "--port", "8000"]
