"""What a RUN instruction installs and removes with the system package managers.

Only the common shapes are read (``apt-get install``, ``apk add [--virtual NAME]``, ``dnf``/``yum``
``install``/``groupinstall``, and their remove/purge/del counterparts), one shell command at a
time; anything dynamic (``$PACKAGES`` without a value) is skipped rather than guessed.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastlint.docker.images import package_name

_MANAGERS = {
    "apt-get": "apt",
    "apt": "apt",
    "aptitude": "apt",
    "apk": "apk",
    "dnf": "rpm",
    "yum": "rpm",
    "microdnf": "rpm",
    "tdnf": "rpm",
}
_INSTALL = {"apt": {"install"}, "apk": {"add"}, "rpm": {"install", "groupinstall"}}
_REMOVE = {
    "apt": {"purge", "remove", "autoremove"},
    "apk": {"del"},
    "rpm": {"remove", "erase", "autoremove"},
}
# Options that take the next word as their value (so it is not a package or the sub-command).
_VALUE_OPTIONS = {
    "apt": {"-o", "-c", "-t", "--option", "--config-file", "--target-release"},
    "apk": {"-X", "--repository", "-p", "--root", "--arch", "--cache-dir"},
    "rpm": {"-c", "--config", "--installroot", "--releasever", "--setopt", "-x", "--exclude"},
}
_SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")"}
_PREFIXES = {"sudo", "env", "nice", "time", "command", "exec"}
_TOOLCHAIN_GROUPS = ("development tools", "development-tools", "c development tools")


@dataclass
class PackageChanges:
    """Packages one RUN installs and removes (names as written, version pins dropped)."""

    installed: list[str] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    virtual: dict[str, list[str]] = field(default_factory=dict)  # apk --virtual NAME -> packages
    removes_auto_installed: bool = False  # apt-mark auto ... && apt-get purge --auto-remove

    def kept(self) -> list[str]:
        """Installed and still there when the RUN ends."""
        if self.removes_auto_installed:
            return []
        gone = {package_name(name) for name in self.removed}
        for name, members in self.virtual.items():
            if package_name(name) in gone:
                gone.update(package_name(member) for member in members)
        return [package for package in self.installed if package_name(package) not in gone]


def split_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, as word lists (quotes removed)."""
    text = script.replace("\\\n", " ").replace("\n", " ; ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    commands: list[list[str]] = [[]]
    try:
        for token in lexer:
            if token in _SEPARATORS or set(token) <= set("&|;()"):
                commands.append([])
            else:
                commands[-1].append(token)
    except ValueError:  # unbalanced quotes: read what we have
        pass
    return [command for command in commands if command]


def package_changes(script: str) -> PackageChanges:
    """What ``script`` (a RUN's text, variables already substituted) installs and removes."""
    changes = PackageChanges()
    marks_auto = False
    for words in split_commands(script):
        words = _strip_prefixes(words)
        if not words:
            continue
        tool = posixpath.basename(words[0])
        if tool == "apt-mark" and "auto" in words[1:]:
            marks_auto = True
            continue
        family = _MANAGERS.get(tool)
        if family is None:
            continue
        action, rest = _subcommand(family, words[1:])
        if action is None:
            continue
        if action in _INSTALL[family]:
            _record_install(changes, family, action, rest)
        elif action in _REMOVE[family]:
            names = [w for w in _operands(family, rest) if "$" not in w]
            changes.removed.update(names)
            auto = action == "autoremove" or "--auto-remove" in rest or "--autoremove" in rest
            if marks_auto and auto:
                changes.removes_auto_installed = True
    return changes


def _strip_prefixes(words: list[str]) -> list[str]:
    index = 0
    while index < len(words) and (
        words[index] in _PREFIXES or ("=" in words[index] and not words[index].startswith("-"))
    ):
        index += 1
    return words[index:]


def _operand_positions(family: str, words: list[str]) -> Iterator[int]:
    """Indexes of the words that are not options or option values."""
    skip_next = False
    for index, word in enumerate(words):
        if skip_next:
            skip_next = False
        elif word.startswith("-"):
            skip_next = word in _VALUE_OPTIONS[family]
        else:
            yield index


def _subcommand(family: str, words: list[str]) -> tuple[str | None, list[str]]:
    """The sub-command (install, add, del...) and the words after it."""
    for index in _operand_positions(family, words):
        word = words[index]
        if family == "rpm" and word == "group" and index + 1 < len(words):
            return "group" + words[index + 1], words[index + 2 :]
        return word, words[index + 1 :]
    return None, []


def _operands(family: str, words: list[str]) -> list[str]:
    return [words[index] for index in _operand_positions(family, words)]


def _record_install(changes: PackageChanges, family: str, action: str, words: list[str]) -> None:
    virtual: str | None = None
    if family == "apk":
        for index, word in enumerate(words):
            if word in ("-t", "--virtual") and index + 1 < len(words):
                virtual = words[index + 1]
            elif word.startswith("--virtual="):
                virtual = word.split("=", 1)[1]
        words = [
            word
            for index, word in enumerate(words)
            if not (index > 0 and words[index - 1] in ("-t", "--virtual"))
        ]
    names = [w for w in _operands(family, words) if "$" not in w]
    if action == "groupinstall":
        if any(group.lower().lstrip("@") in _TOOLCHAIN_GROUPS for group in names):
            changes.installed.append("Development Tools")
        return
    changes.installed.extend(names)
    if virtual:
        changes.virtual.setdefault(virtual, []).extend(names)
