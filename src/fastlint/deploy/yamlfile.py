"""Safe YAML reading for compose files and Kubernetes manifests, with line numbers.

PyYAML's *composer* (the SafeLoader's, libyaml's when installed) builds a node graph and never
constructs Python objects, so no tag can instantiate anything. An alias is a reference to the
anchored node, not a copy: :func:`load_documents` walks that graph into :class:`YamlNode` trees
with a budget on the nodes it visits and on the nesting depth, so an alias-expansion bomb
("billion laughs") or a recursive alias is refused as one FL000 instead of filling memory. Files
over :data:`MAX_YAML_BYTES` are refused too: hand-written deployment files are far smaller.

Mapping keys are kept as their text (``ports``, ``"8080"``); ``<<`` merge keys are applied as
YAML 1.1 does (keys written in the mapping win). Scalars keep the text as written and the tag the
resolver gave them (``int``, ``bool``, ``null``, ``str`` or a custom one such as ``!reset``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import yaml

from fastlint.deploy.facts import Site
from fastlint.diagnostics import Location
from fastlint.reading import TextUnit, UnreadableFile

MAX_YAML_BYTES = 1_000_000
MAX_NODES = 100_000  # every node visited, aliases counted each time they are used
MAX_DEPTH = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"

Value = Union[str, None, list["YamlNode"], dict[str, "YamlNode"]]


@dataclass
class YamlNode:
    """A scalar (``value`` is its text, or None for null), a sequence or a mapping."""

    value: Value
    line: int  # 1-based line where the node starts
    tag: str = ""  # "int", "bool", "str", "null", "float", "seq", "map", or a custom "!tag"
    key_lines: dict[str, int] = field(default_factory=dict)  # mapping: line of each key

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, (dict, list))

    def get(self, *keys: str) -> YamlNode | None:
        """The node under a path of mapping keys, or None where the path breaks off."""
        node: YamlNode | None = self
        for key in keys:
            if node is None or not isinstance(node.value, dict):
                return None
            node = node.value.get(key)
        return node

    def text(self, *keys: str) -> str | None:
        """A scalar's text under ``keys`` (None for null, a collection or a missing key)."""
        node = self.get(*keys)
        if node is None or not node.is_scalar:
            return None
        return node.value if isinstance(node.value, str) else None

    def key_line(self, key: str) -> int:
        """The line of ``key`` in this mapping (its value may start on a later line)."""
        return self.key_lines.get(key, self.line)

    def items(self) -> list[tuple[str, YamlNode]]:
        return list(self.value.items()) if isinstance(self.value, dict) else []

    def elements(self) -> list[YamlNode]:
        return list(self.value) if isinstance(self.value, list) else []


@dataclass(eq=False)
class YamlFile(TextUnit):
    """A compose file or manifest as read: findings point at its lines."""

    def site(self, line: int) -> Site:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Site(self.path, line, text)


def load_documents(text: str) -> list[YamlNode]:
    """Every document of ``text`` (empty documents left out); UnreadableFile when it is not
    YAML, too big, or expands past the budget."""
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_YAML_BYTES:
        raise UnreadableFile(
            f"YAML file is {size:,} bytes, over {MAX_YAML_BYTES:,}: too large for a hand-written "
            "deployment file; skipped",
            text=text,
        )
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        last = max(1, len(text.splitlines()))
        if line > last and error.context_mark is not None:  # ran off the end: where it began
            line = error.context_mark.line + 1
        line = min(line, last)
        problem = error.problem or error.context or "invalid YAML"
        raise UnreadableFile(
            f"invalid YAML: {problem} (line {line})", Location(line, 1, line, 1), text
        ) from None
    except yaml.YAMLError as error:
        raise UnreadableFile(f"invalid YAML: {error}", text=text) from None
    except RecursionError:  # the pure-Python composer (no libyaml) on very deep nesting
        raise UnreadableFile("YAML nested too deeply to read", text=text) from None
    walker = _Walker()
    return [walker.convert(node, 0) for node in nodes if node is not None]


class _Walker:
    def __init__(self) -> None:
        self.visited = 0

    def convert(self, node: yaml.Node, depth: int) -> YamlNode:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise UnreadableFile(
                f"YAML aliases expand to more than {MAX_NODES:,} nodes (an alias-expansion "
                "bomb?); not read"
            )
        if depth > MAX_DEPTH:
            raise UnreadableFile(
                f"YAML nested more than {MAX_DEPTH} levels deep (or a recursive alias); not read"
            )
        line = node.start_mark.line + 1
        tag = _short_tag(node.tag)
        if isinstance(node, yaml.ScalarNode):
            return YamlNode(None if tag == "null" else str(node.value), line, tag)
        if isinstance(node, yaml.SequenceNode):
            return YamlNode([self.convert(item, depth + 1) for item in node.value], line, tag)
        mapping: dict[str, YamlNode] = {}
        key_lines: dict[str, int] = {}
        merged: list[YamlNode] = []
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
            value = self.convert(value_node, depth + 1)
            if key == "<<" and _short_tag(key_node.tag) == "merge":
                merged.extend(value.elements() if value.is_seq else [value])
                continue
            mapping[key] = value
            key_lines[key] = key_node.start_mark.line + 1
        for source in merged:  # YAML 1.1 merge: keys written in the mapping win
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    key_lines[key] = source.key_line(key)
        return YamlNode(mapping, line, tag, key_lines)


def _short_tag(tag: str | None) -> str:
    if not tag:
        return ""
    return tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def scalar(node: YamlNode | None) -> Any:
    """A scalar node's text, or None (null, collection, missing)."""
    if node is None or not node.is_scalar:
        return None
    return node.value


__all__ = ["MAX_YAML_BYTES", "YamlFile", "YamlNode", "load_documents", "scalar"]
