# The engine as a container: a wheel built in one stage, installed read-only in the next, and
# run as an unprivileged user that owns only the two directories it writes (docs/deploy.md).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY integrator ./integrator
COPY config ./config
COPY schemas ./schemas
COPY mappings ./mappings
COPY destinations ./destinations
COPY deadletter ./deadletter
COPY shapes ./shapes
# The project's wheel and those of its dependencies, so the next stage installs offline.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
# Installed by root, so the service user cannot change the code it runs. The store and the
# destination files live in /var/lib/integrator, owned by that user; declared as volumes after
# they exist, so a new named volume starts out owned by it (and with nothing in it).
RUN pip install --no-cache-dir --no-index --find-links /wheels integrator \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --no-create-home \
       --home-dir /var/lib/integrator --shell /usr/sbin/nologin integrator \
    && install -d -o integrator -g integrator -m 0750 \
       /var/lib/integrator /var/lib/integrator/store /var/lib/integrator/destinations
ENV INTEGRATOR_DATABASE_URL=sqlite:////var/lib/integrator/store/integrator.db \
    INTEGRATOR_DESTINATIONS_DIR=/var/lib/integrator/destinations \
    INTEGRATOR_HTTP_HOST=0.0.0.0 \
    INTEGRATOR_HTTP_PORT=8080 \
    INTEGRATOR_LOG_FORMAT=json
VOLUME ["/var/lib/integrator/store", "/var/lib/integrator/destinations"]
WORKDIR /var/lib/integrator
USER integrator
EXPOSE 8080
# SIGTERM: no new work, the attempt on the wire finishes and is recorded, exit 0. The longest
# wait is a destination's connect_timeout + 2 x ack_timeout: give `docker stop -t` that much.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["integrator", "health"]
CMD ["integrator", "run"]
