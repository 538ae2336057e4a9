# maturity-probe as a container: `docker run --rm IMAGE scan --config /etc/maturity-probe/platform.yaml`
#   docker build -t maturity-probe:0.1.0 .
#   docker build --build-arg EXTRAS=github,store -t maturity-probe:slim .   (only what you scan)
# The base image is pinned to an exact Python release; pin it by digest in your own registry
# (`docker buildx imagetools inspect python:3.11.13-slim-bookworm`) for reproducible builds.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# -- build: the project and every dependency as wheels ---------------------------------------
FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS=all
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY configs ./configs
COPY schemas ./schemas
RUN pip wheel --wheel-dir /wheels ".[${EXTRAS}]"

# -- runtime: no compilers, no build files, a user without privileges -------------------------
FROM ${PYTHON_IMAGE}
ARG EXTRAS=all
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# git: the repo collector reads commit history of checkouts
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 probe \
    && useradd --system --uid 10001 --gid probe --home-dir /home/probe --create-home probe
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels "maturity-probe[${EXTRAS}]"
USER 10001:10001
WORKDIR /home/probe
ENV HOME=/home/probe
ENTRYPOINT ["maturity-probe"]
CMD ["--help"]
