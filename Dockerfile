# A small image that runs `vectis serve` as a non-root user, configured by environment:
#   docker build -t vectis .
#   docker run -e VECTIS_DATABASE_URL=... -e VECTIS_APP_DATABASE_URL=... \
#              -e VECTIS_SECRET_KEY=... -p 8000:8000 vectis
#   docker run ... vectis vectis migrate        (once per release, as the owning role)
# VECTIS_APP_DATABASE_URL is the runtime login (a member of vectis_app): see docs/security.md.
#   docker run ... vectis vectis worker         (one or more workers)

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 vectis
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER vectis
WORKDIR /home/vectis
ENV VECTIS_HOST=0.0.0.0 \
    VECTIS_PORT=8000 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["vectis", "serve"]
