"""Kubernetes manifests and other structured configuration found in a repository.

Shared by the serving and monitoring detectors: every `kind:` object of every YAML file
is read once per repository (multi-document streams, `kind: List` expanded). Helm and
Jinja templates are read after their `{{ ... }}` actions are blanked out; a template
under `templates/` that still does not parse is skipped quietly, since it is not meant
to be YAML until rendered.

Also small defensive accessors: any YAML node may have an unexpected type, and aliases
may share structures, so walks are bounded and remember what they visited.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from maturity_probe import yamlio
from maturity_probe.detectors.context import RepoContext, vocabulary
from maturity_probe.evidence import JsonValue
from maturity_probe.yamlio import as_dict, as_list, as_str

YAML_GLOBS = ("**/*.yaml", "**/*.yml")
MAX_WALK_DEPTH = 24
MAX_WALK_NODES = 50_000

# A whole line that is only template actions (`{{- if .Values.x }}`, `{{ end }}`).
_ACTION_LINE = re.compile(r"^\s*(?:\{\{-?.*?-?\}\}\s*)+$")
_ACTION = re.compile(r"\{\{-?.*?-?\}\}")
# Pod specs live at these paths, by workload kind.
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),
    "Service": ("spec", "template", "spec"),  # Knative serving.knative.dev Service
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


# -- defensive accessors ---------------------------------------------------------------


def dig(node: Any, *keys: str) -> Any:
    """`node[k1][k2]...`, or None as soon as a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def line_in(node: Any, *keys: str, default: int = 0) -> int:
    """Line of the deepest of `keys` found under `node` (its own line when none is)."""
    best = yamlio.line_of(node) or default
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            break
        best = yamlio.line_of(node, key) or best
        node = node[key]
    return best


def walk_dicts(node: Any, max_depth: int = MAX_WALK_DEPTH) -> Iterator[dict[Any, Any]]:
    """Every mapping under `node`, depth-bounded, each shared (aliased) node once."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(node, 0)]
    while stack and len(seen) < MAX_WALK_NODES:
        current, depth = stack.pop()
        if not isinstance(current, dict | list) or id(current) in seen or depth > max_depth:
            continue
        seen.add(id(current))
        children = list(current.values()) if isinstance(current, dict) else current
        if isinstance(current, dict):
            yield current
        stack.extend((child, depth + 1) for child in reversed(children))


def text_lines(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle` in `text` (1 when absent)."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


# -- YAML with templates -----------------------------------------------------------------
def is_template_path(path: str) -> bool:
    """Files under a `templates/` directory (Helm charts, Ansible roles) are templates."""
    return "templates/" in ("/" + path.lower())


def blank_template_actions(text: str) -> str:
    """Template text with `{{ }}` actions removed, keeping every line where it was."""
    out = []
    for line in text.split("\n"):
        if _ACTION_LINE.match(line):
            out.append("")
        else:
            out.append(_ACTION.sub("templated", line))
    return "\n".join(out)


def yaml_documents(ctx: RepoContext, path: str) -> list[Any]:
    """The YAML documents of a file, templates included (see the module docstring)."""
    return ctx.derived(f"manifests.docs:{path}", lambda: _load_documents(ctx, path))


def _load_documents(ctx: RepoContext, path: str) -> list[Any]:
    text = ctx.text(path)
    if text is None:
        return []
    if "{{" not in text:
        return ctx.yaml_docs(path)
    for candidate in (text, blank_template_actions(text)):
        try:
            return yamlio.load_all(candidate)
        except yamlio.YamlError:
            continue
    if not is_template_path(path):
        ctx.warn(path, None, "templated YAML that does not parse without rendering, ignored")
    return []


def embedded_yaml(text: str) -> list[Any]:
    """Documents of YAML held in a string (a ConfigMap value); [] when it is not YAML."""
    try:
        return yamlio.load_all(text)
    except yamlio.YamlError:
        return []


# -- Kubernetes objects ---------------------------------------------------------------------
@dataclass(frozen=True)
class KubeObject:
    """One Kubernetes object of a manifest file."""

    path: str
    kind: str
    api_version: str
    name: str
    namespace: str
    body: dict[Any, Any]

    @property
    def line(self) -> int:
        return yamlio.line_of(self.body) or 1

    @cached_property
    def group(self) -> str:
        """The API group: `serving.kserve.io` for `serving.kserve.io/v1beta1`."""
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""

    @cached_property
    def spec(self) -> dict[Any, Any]:
        return as_dict(self.body.get("spec"))

    # Cached: detectors read them in loops over many objects (a cluster has thousands).
    # Callers must not modify the returned mappings.
    @cached_property
    def labels(self) -> dict[str, str]:
        return {str(k): as_str(v) for k, v in as_dict(dig(self.body, "metadata", "labels")).items()}

    @cached_property
    def annotations(self) -> dict[str, str]:
        found = as_dict(dig(self.body, "metadata", "annotations"))
        return {str(k): as_str(v) for k, v in found.items()}

    @cached_property
    def template_labels(self) -> dict[str, str]:
        """Labels of the pods a workload creates (see `pod_labels`)."""
        keys = _POD_SPEC_PATHS.get(self.kind)
        if keys is None or len(keys) < 2:
            return self.labels
        template = dig(self.body, *keys[:-1])
        labels = as_dict(dig(template, "metadata", "labels"))
        return {str(k): as_str(v) for k, v in labels.items()}

    def line_of(self, *keys: str) -> int:
        """Line of a nested key of the object, e.g. `line_of("spec", "schedule")`."""
        return line_in(self.body, *keys, default=self.line)

    def attributes(self) -> dict[str, JsonValue]:
        """The attributes every Kubernetes finding carries: kind, name, namespace."""
        attrs: dict[str, JsonValue] = {"kind": self.kind}
        if self.name:
            attrs["name"] = self.name
        if self.namespace:
            attrs["namespace"] = self.namespace
        return attrs

    def describe(self) -> str:
        """`InferenceService churn` for summaries."""
        return f"{self.kind} `{self.name}`" if self.name else self.kind


def kube_objects(ctx: RepoContext) -> list[KubeObject]:
    """Every Kubernetes object in the repository's YAML files (computed once)."""
    return ctx.derived(_KUBE_OBJECTS, lambda: list(_find_objects(ctx)))


_KUBE_OBJECTS = "manifests.kube_objects"


def use_kube_objects(ctx: RepoContext, objects: list[KubeObject]) -> None:
    """Make `objects` the Kubernetes objects every detector sees in `ctx`, instead of
    those of the tree's YAML files: a live cluster's objects, or JSON and `kubectl`
    dumps, are then judged by exactly the same detectors. Call it before any detector."""
    seeded = ctx.derived(_KUBE_OBJECTS, lambda: list(objects))
    if len(seeded) != len(objects):
        raise ValueError("use_kube_objects() must be called before detectors read the objects")


def objects_in_document(path: str, doc: Any) -> list[KubeObject]:
    """The Kubernetes objects of one parsed YAML or JSON document (`kind: List` expanded)."""
    return list(_objects_in(path, doc, depth=0))


def objects_of_kind(ctx: RepoContext, *kinds: str) -> list[KubeObject]:
    """The objects of these kinds (computed once per set of kinds: detectors ask in loops)."""
    wanted = frozenset(kinds)
    return ctx.derived(f"manifests.of_kind:{','.join(sorted(wanted))}",
                       lambda: [obj for obj in kube_objects(ctx) if obj.kind in wanted])


def find_object(ctx: RepoContext, kind: str, name: str) -> KubeObject | None:
    """The first object of that kind and name in the repository, if any."""
    return _object_index(ctx).get((kind, name))


def _object_index(ctx: RepoContext) -> dict[tuple[str, str], KubeObject]:
    def build() -> dict[tuple[str, str], KubeObject]:
        index: dict[tuple[str, str], KubeObject] = {}
        for obj in kube_objects(ctx):
            index.setdefault((obj.kind, obj.name), obj)
        return index

    return ctx.derived("manifests.object_index", build)


KUBE_WORDS = vocabulary("apiVersion")


def _find_objects(ctx: RepoContext) -> Iterator[KubeObject]:
    for path in ctx.config_mentioning(*KUBE_WORDS, globs=YAML_GLOBS):
        text = ctx.text(path)
        if text is None or "kind" not in text:
            continue
        for doc in yaml_documents(ctx, path):
            yield from _objects_in(path, doc, depth=0)


def _objects_in(path: str, doc: Any, depth: int) -> Iterator[KubeObject]:
    body = as_dict(doc)
    kind = as_str(body.get("kind"))
    api_version = as_str(body.get("apiVersion"))
    if not kind or not api_version:
        return
    if kind.endswith("List") and isinstance(body.get("items"), list):
        if depth < 2:  # a List of Lists is legal but never deeper in practice
            for item in body["items"]:
                yield from _objects_in(path, item, depth + 1)
        return
    metadata = as_dict(body.get("metadata"))
    yield KubeObject(
        path=path,
        kind=kind,
        api_version=api_version,
        name=as_str(metadata.get("name")) or as_str(metadata.get("generateName")),
        namespace=as_str(metadata.get("namespace")),
        body=body,
    )


# -- pods and containers ------------------------------------------------------------------------
def pod_spec(obj: KubeObject) -> dict[Any, Any]:
    """The pod spec of a workload (Deployment, CronJob, Rollout, Knative Service...)."""
    keys = _POD_SPEC_PATHS.get(obj.kind)
    if keys is None:
        return {}
    if obj.kind == "Service" and "serving.knative.dev" not in obj.api_version:
        return {}
    return as_dict(dig(obj.body, *keys))


def pod_labels(obj: KubeObject) -> dict[str, str]:
    """Labels of the pods a workload creates (its template's labels)."""
    return obj.template_labels


def containers(spec: Any) -> list[dict[Any, Any]]:
    """The (non-init) containers of a pod spec that are mappings."""
    return [c for c in as_list(as_dict(spec).get("containers")) if isinstance(c, dict)]


def command_tokens(*parts: Any) -> list[str]:
    """Shell words of a command: lists of words, or strings such as `sh -c "..."` bodies."""
    tokens: list[str] = []
    for part in parts:
        items = part if isinstance(part, list) else [part]
        for item in items:
            text = as_str(item)
            if not text:
                continue
            if " " in text.strip() or "\n" in text:
                tokens.extend(split_shell(text))
            else:
                tokens.append(text)
    return tokens


def split_shell(text: str) -> list[str]:
    """Words of a shell command line; separators (`&&`, `;`, `|`) become their own words."""
    return list(_split_shell(text))


@lru_cache(maxsize=4096)  # the same command lines recur across a cluster's namespaces
def _split_shell(text: str) -> tuple[str, ...]:
    spaced = re.sub(r"(&&|\|\||;|\|)", r" \1 ", text)
    try:
        return tuple(shlex.split(spaced, comments=True))
    except ValueError:  # unbalanced quotes: fall back to plain words
        return tuple(spaced.split())


def container_tokens(container: dict[Any, Any]) -> list[str]:
    return command_tokens(container.get("command"), container.get("args"))


def image_of(container: dict[Any, Any]) -> str:
    return as_str(container.get("image"))


def image_repository(image: str) -> str:
    """`nvcr.io/nvidia/tritonserver` for `nvcr.io/nvidia/tritonserver:24.01-py3`."""
    image = image.split("@", 1)[0]
    last_slash = image.rfind("/")
    colon = image.rfind(":")
    return image[:colon] if colon > last_slash else image


# -- infrastructure as code ------------------------------------------------------------------
CLOUDFORMATION_GLOBS = ("**/*.yaml", "**/*.yml", "**/*.json", "**/*.template")
TERRAFORM_GLOBS = ("**/*.tf",)

_TF_RESOURCE = re.compile(r'^[ \t]*resource[ \t]+"([^"]+)"[ \t]+"([^"]+)"[ \t]*\{', re.MULTILINE)


@dataclass(frozen=True)
class CfnResource:
    """One resource of a CloudFormation (or SAM) template."""

    path: str
    logical_id: str
    type: str
    properties: dict[Any, Any]
    line: int


@dataclass(frozen=True)
class TfBlock:
    """One `resource "type" "name" { ... }` block of a Terraform file, as text."""

    path: str
    type: str
    name: str
    line: int
    body: str

    def has_block(self, name: str) -> int:
        """How many nested `name { ... }` blocks the body holds."""
        return len(re.findall(rf"^[ \t]*{re.escape(name)}[ \t]*\{{", self.body, re.MULTILINE))

    def string_attribute(self, name: str) -> str | None:
        """The value of a `name = "value"` attribute at any depth of the body."""
        match = re.search(rf'^[ \t]*{re.escape(name)}[ \t]*=[ \t]*"([^"]*)"', self.body, re.MULTILINE)
        return match.group(1) if match else None

    def line_of(self, needle: str) -> int:
        index = self.body.find(needle)
        return self.line + self.body.count("\n", 0, index) if index >= 0 else self.line


def cloudformation_resources(ctx: RepoContext) -> list[CfnResource]:
    """Resources of every CloudFormation template in the repository (computed once)."""
    return ctx.derived("manifests.cloudformation", lambda: list(_find_cfn(ctx)))


CFN_RESOURCE_WORDS = vocabulary("AWS::")


def _find_cfn(ctx: RepoContext) -> Iterator[CfnResource]:
    for path in ctx.config_mentioning(*CFN_RESOURCE_WORDS, globs=CLOUDFORMATION_GLOBS):
        text = ctx.text(path)
        if text is None or "Resources" not in text:
            continue
        for doc in yaml_documents(ctx, path):
            resources = as_dict(as_dict(doc).get("Resources"))
            for logical_id, resource in resources.items():
                body = as_dict(resource)
                kind = as_str(body.get("Type"))
                if kind.startswith("AWS::"):
                    yield CfnResource(
                        path=path,
                        logical_id=str(logical_id),
                        type=kind,
                        properties=as_dict(body.get("Properties")),
                        line=yamlio.line_of(resources, logical_id) or 1,
                    )


def terraform_blocks(ctx: RepoContext) -> list[TfBlock]:
    """Resource blocks of every Terraform file in the repository (computed once)."""
    return ctx.derived("manifests.terraform", lambda: list(_find_tf(ctx)))


def _find_tf(ctx: RepoContext) -> Iterator[TfBlock]:
    for path in ctx.matching(*TERRAFORM_GLOBS):
        text = ctx.text(path)
        if text is None:
            continue
        for match in _TF_RESOURCE.finditer(text):
            end = _closing_brace(text, match.end() - 1)
            yield TfBlock(
                path=path,
                type=match.group(1),
                name=match.group(2),
                line=text.count("\n", 0, match.start()) + 1,
                body=text[match.end() : end],
            )


def _closing_brace(text: str, start: int) -> int:
    """Index of the brace closing the one at `start`, skipping strings and comments."""
    depth = 0
    i = start
    in_string = False
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)
