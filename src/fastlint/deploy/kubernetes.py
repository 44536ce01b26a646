"""The Kubernetes front end: workloads and their containers in YAML manifests.

A file is a manifest when it has top-level ``apiVersion`` and ``kind`` (see discovery), in any
folder; each document is one object. Read: Deployment, StatefulSet, ReplicaSet, DaemonSet,
Job, CronJob and Pod (their pod template), and HorizontalPodAutoscaler (``maxReplicas`` and the
workload it scales). Per container: ``image``, ``command`` (replaces the image's ENTRYPOINT),
``args`` (replaces its CMD), ``env`` (a literal ``value``; ``valueFrom`` is decided at run
time), ``envFrom``, ``resources.limits.cpu`` and the security context (container level over pod
level). A file with Go templates (``{{ ... }}`` in a Helm chart's ``templates/``, or anywhere in
a file that is not YAML without them) is not YAML until Helm renders it: it is skipped
(``templated``) and counted in the deployment summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastlint.deploy.facts import Site
from fastlint.deploy.yamlfile import YamlFile, YamlNode, load_documents, scalar
from fastlint.discovery import SourceFile
from fastlint.reading import UnreadableFile

_POD_TEMPLATE = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


@dataclass(frozen=True)
class Field:
    """A scalar as written (None: null or not a scalar) and the line of its key."""

    text: str | None
    line: int


@dataclass(frozen=True)
class Words:
    words: tuple[str, ...]
    lines: tuple[int, ...]
    line: int  # the key's line (``command:`` / ``args:``)
    file: YamlFile = field(compare=False, repr=False)

    def site_of(self, line: int) -> Site:
        return self.file.site(line)

    @property
    def site(self) -> Site:
        return self.file.site(self.line)


@dataclass
class Container:
    name: str
    line: int
    image: Field | None = None
    command: Words | None = None
    args: Words | None = None
    env: dict[str, Field] = field(default_factory=dict)  # text None: valueFrom (run time)
    env_from: bool = False
    cpu_limit: Field | None = None
    run_as_user: Field | None = None
    run_as_non_root: Field | None = None


@dataclass
class Workload:
    kind: str
    name: str
    line: int  # the ``kind:`` line
    replicas: Field | None = None
    containers: list[Container] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class Autoscaler:
    name: str
    target_kind: str | None
    target_name: str | None
    max_replicas: Field | None
    line: int


@dataclass(eq=False)
class KubernetesFile(YamlFile):
    workloads: list[Workload] = field(default_factory=list)
    autoscalers: list[Autoscaler] = field(default_factory=list)
    templated: bool = False  # Go templates: skipped until Helm renders it


def load_kubernetes(source: SourceFile, text: str) -> KubernetesFile:
    manifest = KubernetesFile(source, text)
    if "{{" in text:
        # A Helm chart's templates/ hold Go templates; elsewhere "{{" may sit inside a string
        # (a PrometheusRule's annotations), so only a file that is not YAML without Helm counts.
        in_templates = "templates" in source.relpath.split("/")[:-1]
        try:
            documents = None if in_templates else load_documents(text)
        except UnreadableFile:
            documents = None
        if documents is None:
            manifest.templated = True
            return manifest
    else:
        documents = load_documents(text)
    for document in documents:
        if not document.is_map:
            continue
        kind = document.text("kind")
        name = document.text("metadata", "name") or "?"
        line = document.key_line("kind")
        if kind in _POD_TEMPLATE:
            manifest.workloads.append(_workload(manifest, kind, name, line, document))
        elif kind == "HorizontalPodAutoscaler":
            spec = document.get("spec")
            target = spec.get("scaleTargetRef") if spec is not None else None
            manifest.autoscalers.append(
                Autoscaler(
                    name,
                    target.text("kind") if target is not None else None,
                    target.text("name") if target is not None else None,
                    _field(spec, "maxReplicas"),
                    line,
                )
            )
    return manifest


def _workload(
    manifest: KubernetesFile, kind: str, name: str, line: int, document: YamlNode
) -> Workload:
    workload = Workload(kind, name, line)
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        workload.replicas = _field(document.get("spec"), "replicas")
    pod = document.get(*_POD_TEMPLATE[kind])
    if pod is None or not pod.is_map:
        return workload
    pod_security = pod.get("securityContext")
    containers = pod.get("containers")
    for node in containers.elements() if containers is not None else []:
        if node.is_map:
            workload.containers.append(_container(manifest, node, pod_security))
    return workload


def _container(
    manifest: KubernetesFile, node: YamlNode, pod_security: YamlNode | None
) -> Container:
    container = Container(node.text("name") or "?", node.line)
    container.image = _field(node, "image")
    container.command = _words(manifest, node, "command")
    container.args = _words(manifest, node, "args")
    for item in (node.get("env") or YamlNode([], node.line)).elements():
        name = item.text("name")
        if not name:
            continue
        value = item.get("value")
        # valueFrom (a secret, a ConfigMap, the downward API) is decided at run time.
        text = scalar(value) if value is not None else None
        container.env[name] = Field(text, value.line if value is not None else item.line)
    container.env_from = node.get("envFrom") is not None
    container.cpu_limit = _field(node.get("resources", "limits"), "cpu")
    security = node.get("securityContext")
    for key in ("runAsUser", "runAsNonRoot"):
        found = _field(security, key) or _field(pod_security, key)
        setattr(container, "run_as_user" if key == "runAsUser" else "run_as_non_root", found)
    return container


def _field(node: YamlNode | None, key: str) -> Field | None:
    if node is None or not node.is_map or node.get(key) is None:
        return None
    return Field(scalar(node.get(key)), node.key_line(key))


def _words(manifest: KubernetesFile, node: YamlNode, key: str) -> Words | None:
    child = node.get(key)
    if child is None or not child.is_seq:
        return None
    items = [c for c in child.elements() if c.is_scalar and c.value is not None]
    return Words(
        tuple(str(c.value) for c in items),
        tuple(c.line for c in items),
        node.key_line(key),
        manifest,
    )


def parse_cpu(text: str | None) -> float | None:
    """A Kubernetes or compose CPU quantity (``"2"``, ``"1.5"``, ``"500m"``) in CPUs."""
    if text is None:
        return None
    text = text.strip().strip("\"'")
    try:
        value = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return None
    return value if value > 0 else None


__all__ = [
    "Autoscaler",
    "Container",
    "Field",
    "KubernetesFile",
    "Words",
    "Workload",
    "load_kubernetes",
    "parse_cpu",
]
