# The localize worker image: the project installed, flows runnable from /app.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY flows ./flows
COPY infra ./infra
RUN pip install --no-cache-dir .
ENV LOCALIZE_ROOT=/app
CMD ["prefect", "worker", "start", "--pool", "localize"]
