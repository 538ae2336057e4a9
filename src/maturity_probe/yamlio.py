"""Safe YAML loading that remembers line numbers.

Every YAML file the probe reads (repository CI files, manifests, rules, configs) goes
through here, so that every message and every evidence locator can name a line.
Only `yaml.SafeLoader` is used: no Python objects are ever constructed from input.

A key given twice in one mapping is an error in the probe's own configuration files
(`load_file`: a typo would otherwise be silently overridden). Files of a scanned repository
(`load_all`) keep the last value, as most YAML tools do: real CI files and manifests
contain such repeats and must still be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from maturity_probe.errors import UserError

MAX_YAML_BYTES = 2_000_000  # larger YAML files are generated artefacts, not configuration


class LineDict(dict[Any, Any]):
    """A mapping that knows the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence that knows the line it starts on and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class YamlError(ValueError):
    """A YAML document could not be read; `line` is 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0, *, syntax: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.syntax = syntax  # False: well-formed YAML the probe does not take (a repeated key)

    def describe(self) -> str:
        """The message for a `file:line: ` prefix."""
        return f"invalid YAML: {self.message}" if self.syntax else self.message


class _LineLoader(yaml.SafeLoader):
    """SafeLoader building LineDict / LineList with 1-based line numbers."""

    unique_keys = False  # True: a key written twice in one mapping is a YamlError


class _UniqueKeyLineLoader(_LineLoader):
    unique_keys = True


def _construct_mapping(loader: _LineLoader, node: MappingNode) -> LineDict:
    # Keys merged in from `<<: *anchor` may be overridden; keys written in the mapping itself
    # may not (when unique_keys), so remember which key nodes those are before merging.
    written = {id(key_node) for key_node, _ in node.value}
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    written_lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError as exc:
            raise YamlError("unhashable mapping key", line) from exc
        if loader.unique_keys and id(key_node) in written:
            if key in written_lines:
                raise YamlError(f"duplicate key {as_str(key)!r} (first on line "
                                f"{written_lines[key]})", line, syntax=False)
            written_lines[key] = line
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node: SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _unknown_tag(loader: _LineLoader, tag_suffix: str, node: Node) -> Any:
    """Tags such as CloudFormation's `!Ref` or GitLab's `!reference` read as plain data."""
    if isinstance(node, MappingNode):
        return _construct_mapping(loader, node)
    if isinstance(node, SequenceNode):
        return _construct_sequence(loader, node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_LineLoader.add_multi_constructor("!", _unknown_tag)
_LineLoader.add_multi_constructor("tag:", _unknown_tag)


def load_all(text: str, *, unique_keys: bool = False) -> list[Any]:
    """Parse every document of a YAML stream; raise YamlError with a line on bad input.

    With `unique_keys`, a key written twice in one mapping is such an error; without, the
    last one wins (files of scanned repositories)."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlError(f"YAML larger than {MAX_YAML_BYTES // 1_000_000} MB, not read")
    loader = _UniqueKeyLineLoader if unique_keys else _LineLoader
    try:
        return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(problem, line) from exc
    except yaml.YAMLError as exc:
        raise YamlError(str(exc).splitlines()[0]) from exc
    except RecursionError as exc:
        raise YamlError("YAML nested too deeply") from exc


def load_one(text: str, *, unique_keys: bool = False) -> Any:
    """Parse a single-document YAML file (an empty file gives None)."""
    docs = load_all(text, unique_keys=unique_keys)
    return docs[0] if docs else None


def read_text(path: Path) -> str:
    """A file the user gave (config, rules, exemptions, an assessment) as text.

    A file that cannot be read or is not UTF-8 raises UserError naming it (and the line of
    the first bad byte), the one place every loader gets that from."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return decode_text(data, str(path))


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 `data` (a leading byte-order mark dropped) or UserError naming `name`."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserError(f"{name}:{line}: not UTF-8 text") from exc


def load_file(path: Path) -> Any:
    """Load one of the probe's own configuration files (a key written twice is an error).

    Errors: UserError when the file cannot be read or is not UTF-8, YamlError naming the
    line when it is not valid YAML."""
    return load_one(read_text(path), unique_keys=True)


def line_of(node: Any, key: Any = None) -> int:
    """The line of `node` (or of `key` inside it) when the node came from this loader."""
    if isinstance(node, LineDict):
        return node.line_of(key) if key is not None else node.line
    if isinstance(node, LineList):
        return node.line_of(key) if isinstance(key, int) else node.line
    return 0


# -- defensive accessors: any parsed node may be of an unexpected type ---------------------
def as_dict(node: Any) -> dict[Any, Any]:
    """The node when it is a mapping, else an empty mapping."""
    return node if isinstance(node, dict) else {}


def as_list(node: Any) -> list[Any]:
    """The node when it is a sequence, else an empty list."""
    return node if isinstance(node, list) else []


def as_str(node: Any) -> str:
    """A scalar as text, booleans as YAML writes them; '' for mappings, sequences and null."""
    if type(node) is str:  # the common case first: this runs for every field read
        return node
    if node is None or isinstance(node, dict | list):
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)
