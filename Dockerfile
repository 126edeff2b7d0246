FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY integrator ./integrator
COPY schemas ./schemas
COPY mappings ./mappings
COPY destinations ./destinations
COPY deadletter ./deadletter
COPY config ./config
RUN pip install --no-cache-dir . && useradd --system integrator && mkdir -p var && chown integrator var
USER integrator
ENV INTEGRATOR_HTTP_HOST=0.0.0.0
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["integrator", "run"]
