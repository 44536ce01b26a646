"""Facts about base images and system packages, kept as data in one place.

Only images whose default user we are sure of are listed: a wrong entry here silences FL501 for
everyone who uses that image. Users can add their own internal images with the rule option.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

# (repository glob, tag glob): images that run as a non-root user unless a USER says otherwise.
NONROOT_IMAGES: tuple[tuple[str, str], ...] = (
    # Google distroless: the :nonroot / :debug-nonroot tags (and their -amd64/-arm64 forms)
    # run as uid 65532; the other tags run as root.
    ("gcr.io/distroless/*", "*nonroot*"),
    # Chainguard's Python images (both the runtime and the -dev variants) run as "nonroot"
    # (uid 65532); installing packages in them needs an explicit USER root.
    ("cgr.dev/chainguard/python", "*"),
    ("chainguard/python", "*"),
    # Red Hat UBI Python (sclorg s2i) images end with USER 1001.
    ("registry.access.redhat.com/ubi*/python-*", "*"),
    ("registry.redhat.io/ubi*/python-*", "*"),
    # Locust's official image creates a locust user and ends with USER locust.
    ("locustio/locust", "*"),
)


# Official database and broker images whose entrypoint (docker-library's docker-entrypoint.sh)
# starts as root, fixes the data folder's owner and re-executes itself through
# `exec gosu <user> "$BASH_SOURCE" "$@"` when the command is the image's own daemon (or starts
# with an option, to which the entrypoint prepends the daemon). Repository → those daemons.
# Any other command (`CMD ["bash"]`) runs as root, and so does everything when a Dockerfile
# replaces the ENTRYPOINT.
SELF_DROPPING_IMAGES: dict[str, frozenset[str]] = {
    "postgres": frozenset({"postgres"}),  # gosu postgres
    "mysql": frozenset({"mysqld"}),  # gosu mysql
    "mariadb": frozenset({"mariadbd", "mysqld"}),  # gosu mysql
    "mongo": frozenset({"mongod", "mongos"}),  # gosu mongodb
    "redis": frozenset({"redis-server"}),  # gosu redis
    "rabbitmq": frozenset({"rabbitmq-server"}),  # gosu rabbitmq
}
DATABASE_DAEMONS: frozenset[str] = frozenset().union(*SELF_DROPPING_IMAGES.values())


def entrypoint_drops_root(reference: str, command: list[str] | None) -> bool:
    """True when an official database image's own entrypoint runs ``command`` (None: the
    image's default CMD) as its unprivileged user."""
    daemons = SELF_DROPPING_IMAGES.get(parse_image(reference).repository)
    if daemons is None:
        return False
    if not command:
        return True
    first = command[0]
    return first.rsplit("/", 1)[-1] in daemons or first.startswith("-")


@dataclass(frozen=True)
class ImageRef:
    repository: str  # normalised: "python", "gcr.io/distroless/python3-debian12"
    tag: str  # "latest" when none is written
    digest: str | None


def parse_image(reference: str) -> ImageRef:
    """Split ``[registry/]repo[:tag][@digest]``; Docker Hub's ``docker.io/library/`` is dropped."""
    ref = reference.strip().lower()
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    tag = "latest"
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:  # a colon in the last path part is a tag, not a registry port
        ref, tag = ref.rsplit(":", 1)
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "library/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
            break
    return ImageRef(ref, tag, digest)


def runs_as_nonroot(reference: str, extra_patterns: tuple[str, ...] = ()) -> bool:
    """True for a base image known to default to a non-root user (or named by the user)."""
    image = parse_image(reference)
    for repo_glob, tag_glob in NONROOT_IMAGES:
        if fnmatch.fnmatchcase(image.repository, repo_glob) and fnmatch.fnmatchcase(
            image.tag, tag_glob
        ):
            return True
    written = reference.strip().lower()
    return any(
        fnmatch.fnmatchcase(written, pattern.lower())
        or fnmatch.fnmatchcase(image.repository, pattern.lower())
        for pattern in extra_patterns
    )


def is_full_python_image(reference: str) -> bool:
    """``python:3.12``, ``python:3.12-bookworm``, ``python`` (latest): the ~1 GB image with gcc and
    headers, as opposed to ``-slim`` / ``-alpine`` (and Windows images, which we don't judge)."""
    image = parse_image(reference)
    if image.repository != "python":
        return False
    return not any(word in image.tag for word in ("slim", "alpine", "windows", "nanoserver"))


# ---------------------------------------------------------------------------- process models


@dataclass(frozen=True)
class KnownBase:
    """A well-known base image that brings its own start command, and what an image built
    FROM it (with no CMD/ENTRYPOINT of its own) therefore runs."""

    repository: str
    start: str  # the base's CMD
    server: str  # what that command starts
    config: str  # the server config it loads unless the project provides one
    project_configs: tuple[str, ...]  # container paths the start script prefers, in order
    config_variable: str  # the variable that names another config
    workers: str  # the worker count of that config, as written there
    workers_variable: str  # the variable that overrides it
    per_core_variable: str  # multiplies the CPU count (a float, default 1)
    cap_variable: str  # caps the CPU-based count when set
    full_python_tags: str  # regex of the tags built on the full python image (group: version)
    source: str  # where these facts are written


# tiangolo's images (deprecated by their author, still pulled widely): /start.sh picks
# /app/gunicorn_conf.py, /app/app/gunicorn_conf.py or its own /gunicorn_conf.py (GUNICORN_CONF
# overrides) and runs `exec gunicorn -c "$GUNICORN_CONF" "$APP_MODULE"`. That config sets
# workers = max(int(WORKERS_PER_CORE * multiprocessing.cpu_count()), 2) unless WEB_CONCURRENCY
# is set (MAX_WORKERS caps the computed count). The `pythonX.Y[-date]` and `latest` tags are
# built FROM python:X.Y (the full image); `-slim` and `-alpine` tags are not.
# Sources: github.com/tiangolo/uvicorn-gunicorn-docker docker-images/{start.sh,
# gunicorn_conf.py, python3.11.dockerfile}; the README of uvicorn-gunicorn-fastapi-docker.
def _tiangolo(repository: str) -> KnownBase:
    return KnownBase(
        repository=repository,
        start="/start.sh",
        server="gunicorn",
        config="/gunicorn_conf.py",
        project_configs=("/app/gunicorn_conf.py", "/app/app/gunicorn_conf.py"),
        config_variable="GUNICORN_CONF",
        workers="max(int(WORKERS_PER_CORE * multiprocessing.cpu_count()), 2)",
        workers_variable="WEB_CONCURRENCY",
        per_core_variable="WORKERS_PER_CORE",
        cap_variable="MAX_WORKERS",
        full_python_tags=r"python(?P<version>\d+\.\d+)(-\d{4}-\d{2}-\d{2})?|latest",
        source="https://github.com/tiangolo/uvicorn-gunicorn-docker",
    )


KNOWN_BASES: tuple[KnownBase, ...] = (
    _tiangolo("tiangolo/uvicorn-gunicorn"),
    _tiangolo("tiangolo/uvicorn-gunicorn-fastapi"),
    _tiangolo("tiangolo/uvicorn-gunicorn-starlette"),
)


def known_base(reference: str | None) -> KnownBase | None:
    """The facts of a well-known base image with its own process model, or None."""
    if not reference or "$" in reference:
        return None
    repository = parse_image(reference).repository
    return next((base for base in KNOWN_BASES if base.repository == repository), None)


def full_python_underneath(reference: str) -> str | None:
    """The full ``python`` image a well-known base is built on (``tiangolo/uvicorn-gunicorn:
    python3.11`` → ``python:3.11``), or None (a -slim / -alpine tag, or not known)."""
    base = known_base(reference)
    if base is None:
        return None
    match = re.fullmatch(base.full_python_tags, parse_image(reference).tag)
    if match is None:
        return None
    version = match.groupdict().get("version")
    return f"python:{version}" if version else "python"


# Browser-test runners: an image built on one runs end-to-end tests, not the service.
TEST_RUNNER_IMAGES = (
    "mcr.microsoft.com/playwright*",
    "cypress/*",
    "selenium/*",
    "browserless/*",
    "ghcr.io/browserless/*",
)


def test_runner_base(reference: str) -> str | None:
    """The repository of a browser-test runner image (Playwright, Cypress, Selenium), or None."""
    repository = parse_image(reference).repository
    if any(fnmatch.fnmatchcase(repository, pattern) for pattern in TEST_RUNNER_IMAGES):
        return repository
    return None


# ---------------------------------------------------------------------------- packages

# Compilers and toolchain meta-packages. `make`, `cmake`, `git` alone are not compilers: a
# Makefile-driven start script needs make at run time, so they are not listed.
TOOLCHAIN_PACKAGES = frozenset(
    {
        "gcc",
        "g++",
        "gcc-c++",  # dnf / yum
        "cpp",
        "clang",
        "gfortran",
        "build-essential",  # apt
        "build-base",  # apk
        "alpine-sdk",
        "musl-dev",
        "libc-dev",
        "libc6-dev",
        "linux-headers",
        "linux-libc-dev",
        "glibc-devel",
        "kernel-headers",
        "development tools",  # dnf/yum group
    }
)
_VERSIONED_COMPILER = re.compile(r"^(gcc|g\+\+|clang|cpp|gfortran)-\d+(\.\d+)*$")


def is_toolchain_package(name: str) -> bool:
    """A compiler, a toolchain meta-package or a headers (``-dev``/``-devel``) package."""
    package = package_name(name)
    return (
        package in TOOLCHAIN_PACKAGES
        or bool(_VERSIONED_COMPILER.match(package))
        or package.endswith(("-dev", "-devel"))
    )


def package_name(word: str) -> str:
    """``gcc=4:12.2`` / ``libpq-dev=15.*`` / ``gcc~=12`` / ``python3-devel.x86_64`` -> the name."""
    name = re.split(r"[=<>~]", word, maxsplit=1)[0].lower()
    for arch in (".x86_64", ".aarch64", ".noarch", ":amd64", ":arm64"):
        if name.endswith(arch):
            name = name[: -len(arch)]
    return name
