"""The compose front end: each service of a ``compose.yaml`` / ``docker-compose.*.yml``.

Read as Docker Compose reads it, never run: ``build`` (context, dockerfile, target), ``image``,
``command`` / ``entrypoint`` (a string is split into words like a shell would, without running
one), ``environment`` (list or map) and ``env_file`` names, ``user``, ``deploy.replicas`` (or
the legacy ``scale``), the CPU limit (``deploy.resources.limits.cpus`` or ``cpus``), bind
mounts and published ports. Compose interpolation: ``${VAR:-default}`` and ``${VAR-default}``
take their default; ``${VAR}`` / ``$VAR`` without one depend on the shell that runs compose and
stay unknown (a word still holding ``$``); ``$$`` is a literal ``$``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from fastlint.deploy.facts import Site
from fastlint.deploy.yamlfile import YamlFile, YamlNode, load_documents, scalar
from fastlint.discovery import SourceFile
from fastlint.reading import UnreadableFile

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<word>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)
# Compose files for development, by name: docker-compose.dev.yml, compose.local.yaml...
_DEV_NAME = re.compile(r"(^|[._-])(dev|development|local|debug|test|tests|testing|ci)([._-]|$)")


def interpolate(text: str) -> str:
    """Compose's variable interpolation with what the file itself says (defaults)."""

    def replace(match: re.Match[str]) -> str:
        if match.group() == "$$":
            return "$"
        op = match.group("op")
        if op in (":-", "-"):
            return interpolate(match.group("word") or "")
        return match.group()  # set by the shell running compose: unknown here

    return _INTERPOLATION.sub(replace, text)


@dataclass(frozen=True)
class Words:
    """A command or entrypoint: its words with the line each is written on."""

    words: tuple[str, ...]
    lines: tuple[int, ...]
    line: int  # the key's line (``command:``)
    form: str  # "string" (split like a shell, no shell runs) or "list"
    file: YamlFile = field(compare=False, repr=False)  # where it is written (merged files)

    def site_of(self, line: int) -> Site:
        return self.file.site(line)

    @property
    def site(self) -> Site:
        return self.file.site(self.line)


@dataclass(frozen=True)
class Value:
    """A setting's interpolated text (None: unknown, set outside the file) and its line."""

    text: str | None
    line: int
    file: YamlFile = field(compare=False, repr=False)

    @property
    def site(self) -> Site:
        return self.file.site(self.line)


@dataclass
class Build:
    context: str  # relative to the compose file's folder
    dockerfile: str  # relative to the context
    target: str | None
    line: int


@dataclass
class Service:
    name: str
    line: int
    file: YamlFile = field(compare=False, repr=False)
    build: Build | None = None
    image: Value | None = None
    command: Words | None = None
    entrypoint: Words | None = None
    environment: dict[str, Value] = field(default_factory=dict)
    env_files: list[str] = field(default_factory=list)
    user: Value | None = None
    replicas: Value | None = None
    cpus: Value | None = None
    bind_sources: list[str] = field(default_factory=list)  # host paths of bind mounts
    publishes_ports: bool = False
    init: bool = False  # `init: true`: Docker's tini is PID 1 and forwards signals
    overlays: str | None = None  # the file whose service this one is merged over

    @property
    def site(self) -> Site:
        return self.file.site(self.line)

    @property
    def starts_nothing(self) -> bool:
        """Neither builds nor names an image nor a command: a fragment meant to be merged."""
        return not (self.build or self.image or self.command or self.entrypoint)


def merge(base: Service, overlay: Service, base_path: str) -> Service:
    """``overlay`` merged over ``base`` as ``docker compose -f base -f overlay`` does: what the
    overlay sets wins, environments are merged key by key, lists are appended."""
    merged = Service(overlay.name, overlay.line, overlay.file)
    for name in ("build", "image", "command", "entrypoint", "user", "replicas", "cpus"):
        mine = getattr(overlay, name)
        setattr(merged, name, mine if mine is not None else getattr(base, name))
    if overlay.entrypoint is not None and overlay.command is None:
        merged.command = None  # a new entrypoint drops the command it replaced
    merged.environment = {**base.environment, **overlay.environment}
    merged.env_files = [*base.env_files, *overlay.env_files]
    merged.bind_sources = [*base.bind_sources, *overlay.bind_sources]
    merged.publishes_ports = base.publishes_ports or overlay.publishes_ports
    merged.init = base.init or overlay.init
    merged.overlays = base_path
    return merged


@dataclass(eq=False)
class ComposeFile(YamlFile):
    services: list[Service] = field(default_factory=list)

    @property
    def folder(self) -> str:
        """The compose file's folder, relative to the project root."""
        return posixpath.dirname(self.source.relpath)

    @property
    def development_reason(self) -> str | None:
        """Why this file is for development, by its name (an override file is merged on top of
        ``compose.yaml`` by ``docker compose up``: the usual place for local settings)."""
        name = posixpath.basename(self.source.relpath).lower()
        stem = re.sub(r"\.ya?ml$", "", name)
        if ".override" in stem:
            return f"{name} is an override file, merged on top for local runs"
        if _DEV_NAME.search(re.sub(r"^(docker-)?compose", "", stem)):
            return f"{name} is named for development"
        return None


def load_compose(source: SourceFile, text: str) -> ComposeFile:
    compose = ComposeFile(source, text)
    documents = load_documents(text)
    if not documents:
        return compose
    root = documents[0]
    if not root.is_map:
        raise UnreadableFile("a compose file must be a mapping (services: ...)", text=text)
    services = root.get("services")
    if services is None:
        return compose
    if not services.is_map:
        raise UnreadableFile(
            f"'services' on line {services.line} is not a mapping of service names", text=text
        )
    for name, node in services.items():
        if node.is_map:
            compose.services.append(_service(compose, name, node, services.key_line(name)))
    return compose


def _service(compose: ComposeFile, name: str, node: YamlNode, line: int) -> Service:
    service = Service(name, line, compose)
    service.build = _build(node)
    service.image = _value(compose, node, "image")
    service.command = _words(compose, node, "command")
    service.entrypoint = _words(compose, node, "entrypoint")
    service.environment = _environment(compose, node.get("environment"))
    service.env_files = _env_files(node.get("env_file"))
    service.user = _value(compose, node, "user")
    service.replicas = _value(compose, node.get("deploy"), "replicas") or _value(
        compose, node, "scale"
    )
    limits = node.get("deploy", "resources", "limits")
    service.cpus = _value(compose, limits, "cpus") or _value(compose, node, "cpus")
    service.bind_sources = _bind_sources(node.get("volumes"))
    ports = node.get("ports")
    service.publishes_ports = ports is not None and bool(ports.elements())
    service.init = node.text("init") in ("true", "True", "yes")
    return service


def _value(compose: ComposeFile, node: YamlNode | None, key: str) -> Value | None:
    if node is None or not node.is_map:
        return None
    child = node.get(key)
    if child is None:
        return None
    text = scalar(child)
    known = None if text is None else _known(interpolate(text))
    return Value(known, node.key_line(key), compose)


def _known(text: str) -> str | None:
    return None if "$" in text else text


def _build(node: YamlNode) -> Build | None:
    build = node.get("build")
    if build is None:
        return None
    line = node.key_line("build")
    if build.is_scalar:
        context = interpolate(scalar(build) or ".")
        return Build(context, "Dockerfile", None, line)
    if not build.is_map:
        return None
    target = build.text("target")
    return Build(
        interpolate(build.text("context") or "."),
        interpolate(build.text("dockerfile") or "Dockerfile"),
        interpolate(target) if target is not None else None,
        build.key_line("target") if target is not None else line,
    )


def _words(compose: ComposeFile, node: YamlNode, key: str) -> Words | None:
    child = node.get(key)
    if child is None or child.value is None:
        return None  # null: the image's own
    line = node.key_line(key)
    if child.is_seq:
        items = [c for c in child.elements() if c.is_scalar and c.value is not None]
        return Words(
            tuple(interpolate(str(c.value)) for c in items),
            tuple(c.line for c in items),
            line,
            "list",
            compose,
        )
    text = scalar(child)
    if text is None:
        return None
    try:
        words = shlex.split(interpolate(text))
    except ValueError:  # unbalanced quotes: compose refuses it too; nothing to follow
        words = ["$"]
    return Words(tuple(words), tuple(child.line for _ in words), line, "string", compose)


def _environment(compose: ComposeFile, node: YamlNode | None) -> dict[str, Value]:
    env: dict[str, Value] = {}
    if node is None:
        return env
    if node.is_map:
        for key, child in node.items():
            text = scalar(child)
            known = None if text is None else _known(interpolate(text))
            env[key] = Value(known, child.line, compose)
    elif node.is_seq:
        for item in node.elements():
            text = scalar(item)
            if text is None:
                continue
            key, equals, value = text.partition("=")
            # "NAME" alone passes the value of the shell running compose: unknown.
            known = _known(interpolate(value)) if equals else None
            env[key.strip()] = Value(known, item.line, compose)
    return env


def _env_files(node: YamlNode | None) -> list[str]:
    if node is None:
        return []
    items = node.elements() if node.is_seq else [node]
    names = []
    for item in items:
        text = item.text("path") if item.is_map else scalar(item)
        if text:
            names.append(text)
    return names


def _bind_sources(node: YamlNode | None) -> list[str]:
    sources = []
    for item in node.elements() if node is not None else []:
        if item.is_map:
            if item.text("type") == "bind" and item.text("source"):
                sources.append(interpolate(item.text("source") or ""))
            continue
        text = scalar(item)
        if text and ":" in text:
            source = interpolate(text).split(":", 1)[0]
            if source.startswith((".", "/", "~")):  # a path, not a named volume
                sources.append(source)
    return sources


__all__ = [
    "Build",
    "ComposeFile",
    "Service",
    "Value",
    "Words",
    "interpolate",
    "load_compose",
    "merge",
]
