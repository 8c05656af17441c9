# cobot: the webhook server, inbox worker and outbox dispatcher in one process.
#   docker build -t cobot .
#   docker run -p 8080:8080 -e COBOT_GITHUB_WEBHOOK_SECRET=... -v cobot-data:/data cobot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    COBOT_CONFIG=/etc/cobot/config.toml \
    COBOT_DATABASE_URL=sqlite:////data/cobot.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY campaigns ./campaigns
RUN pip install . && useradd --system --uid 10001 --home-dir /data cobot \
    && mkdir -p /data /etc/cobot && chown cobot /data
COPY config.toml /etc/cobot/config.toml
RUN sed -i 's/^host = "127.0.0.1".*/host = "0.0.0.0"/' /etc/cobot/config.toml

USER cobot
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["cobot"]
CMD ["serve"]
