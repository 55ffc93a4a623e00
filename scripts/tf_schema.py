"""Check infra/terraform against the pinned providers' schema, offline.

No Terraform provider can be downloaded where this runs, so ``terraform validate`` cannot be
used. Instead this parses every ``.tf`` file (python-hcl2) and checks, against a schema
extracted from the providers' published type bindings (``infra/schema/providers.json``):

- every resource, data source and ephemeral resource type exists in the provider that
  serves it (``provider = google-beta`` is looked up in google-beta);
- every attribute and nested block (``dynamic`` blocks included) exists at its level, a block
  is written as a block and an attribute as an attribute, read-only attributes are not set,
  and required arguments are present;
- every reference resolves: ``var.x``, ``local.x``, ``module.x``, ``data.T.N``,
  ``ephemeral.T.N``, ``T.N`` to declared things, the attribute read from ``T.N`` (and from
  its nested blocks, ``fn[k].service_config[0].uri``) to one the schema has, ``each`` only
  where ``for_each`` is set, ``count`` only where ``count`` is set;
- the version constraints in ``required_providers`` admit the schema's provider versions.

Usage::

    python -m scripts.tf_schema                       # check infra/terraform (exit 1 on any finding)
    python -m scripts.tf_schema --dir other/terraform # check another directory
    python -m scripts.tf_schema --regenerate --from "$CDKTF_DIR"

Regenerating: the schema comes from the npm packages ``@cdktf/provider-google@16.12.1``
(hashicorp/google 6.50.0), ``@cdktf/provider-google-beta@16.12.1`` (google-beta 6.50.0),
``@cdktf/provider-random@12.0.1`` (random 3.7.2), ``@cdktf/provider-archive@11.0.1``
(archive 2.7.1) and ``@cdktf/provider-time@11.0.1`` (time 0.13.1); each package.json names its
provider version under ``cdktf.provider``::

    mkdir -p "$CDKTF_DIR" && cd "$CDKTF_DIR"
    npm pack @cdktf/provider-google@16.12.1 @cdktf/provider-google-beta@16.12.1 \\
             @cdktf/provider-random@12.0.1 @cdktf/provider-archive@11.0.1 @cdktf/provider-time@11.0.1
    for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
    python -m scripts.tf_schema --regenerate --from "$CDKTF_DIR"

Only the types the .tf files use are extracted (add a resource type, then regenerate). The
exact snake_case names are read from the generated JavaScript (``synthesizeHclAttributes``,
``*ToHclTerraform`` and ``getStringAttribute('…')``), never converted from camelCase, and the
required arguments from the ``.d.ts`` docs links (``…#secret_data_wo_version``). Ephemeral
resources are not in the cdktf bindings: ``infra/schema/manual.json`` holds them, copied
from the provider's own documentation (its source is named there).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parent.parent
TF_DIR = ROOT / "infra" / "terraform"
SCHEMA_DIR = ROOT / "infra" / "schema"
SCHEMA_FILE = SCHEMA_DIR / "providers.json"
MANUAL_FILE = SCHEMA_DIR / "manual.json"
REGENERATE = "python -m scripts.tf_schema --regenerate --from <dir with the unpacked @cdktf/provider-* packages>"

KINDS = ("resource", "data", "ephemeral")
META_ATTRS = {
    "resource": {"count", "for_each", "provider", "depends_on"},
    "data": {"count", "for_each", "provider", "depends_on"},
    "ephemeral": {"count", "for_each", "provider", "depends_on"},
}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}
# Roots of references that are not resources: checked separately or not at all.
BUILTIN_ROOTS = {"var", "local", "module", "data", "ephemeral", "each", "count", "path", "terraform", "self"}
PROVIDER_PREFIXES = ("google", "random", "archive")


# --------------------------------------------------------------------------------------------
# Reading the .tf files
# --------------------------------------------------------------------------------------------


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)


@dataclass
class Declared:
    """Everything the .tf files declare, with the file each came from."""

    variables: dict[str, str] = field(default_factory=dict)
    locals: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    blocks: dict[str, dict[tuple[str, str], tuple[str, dict[str, Any]]]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    providers: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    required_providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (file, where, body, has_for_each, has_count) for every place expressions live
    scopes: list[tuple[str, str, Any, bool, bool]] = field(default_factory=list)


def load_tf(tf_dir: Path) -> tuple[Declared, list[str]]:
    decl = Declared()
    errors: list[str] = []
    for path in sorted(tf_dir.glob("*.tf")):
        name = path.name
        try:
            with path.open(encoding="utf-8") as fh:
                doc = hcl2.load(fh)
        except Exception as exc:  # noqa: BLE001 - any parser error is a finding
            errors.append(f"{name}: does not parse: {exc}")
            continue
        for block in doc.get("variable", []):
            for label, body in block.items():
                if label.startswith("__"):
                    continue
                decl.variables[_unquote(label)] = name
                decl.scopes.append((name, f"variable {_unquote(label)}", body, False, False))
        for block in doc.get("locals", []):
            for key, value in block.items():
                if key.startswith("__"):
                    continue
                if key in decl.locals:
                    errors.append(f"{name}: local.{key} is also declared in {decl.locals[key]}")
                decl.locals[key] = name
                decl.scopes.append((name, f"local.{key}", value, False, False))
        for block in doc.get("module", []):
            for label, body in block.items():
                if not label.startswith("__"):
                    decl.modules[_unquote(label)] = name
                    decl.scopes.append((name, f"module.{_unquote(label)}", body, "for_each" in body, "count" in body))
        for kind in KINDS:
            for block in doc.get(kind, []):
                for tlabel, named in block.items():
                    if tlabel.startswith("__"):
                        continue
                    for nlabel, body in named.items():
                        if nlabel.startswith("__"):
                            continue
                        key = (_unquote(tlabel), _unquote(nlabel))
                        if key in decl.blocks[kind]:
                            errors.append(f"{name}: {kind} {key[0]}.{key[1]} is declared twice")
                        decl.blocks[kind][key] = (name, body)
                        prefix = "" if kind == "resource" else f"{kind}."
                        decl.scopes.append(
                            (name, f"{prefix}{key[0]}.{key[1]}", body, "for_each" in body, "count" in body)
                        )
        for block in doc.get("provider", []):
            for label, body in block.items():
                if not label.startswith("__"):
                    decl.providers[_unquote(label)] = (name, body)
                    decl.scopes.append((name, f"provider {_unquote(label)}", body, False, False))
        for block in doc.get("terraform", []):
            for req in block.get("required_providers", []):
                for local_name, spec in req.items():
                    if not local_name.startswith("__") and isinstance(spec, dict):
                        decl.required_providers[local_name] = spec
        for kind in ("output", "check"):
            for block in doc.get(kind, []):
                for label, body in block.items():
                    if not label.startswith("__"):
                        decl.scopes.append((name, f"{kind} {_unquote(label)}", body, False, False))
    return decl, errors


# --------------------------------------------------------------------------------------------
# Expressions and references
# --------------------------------------------------------------------------------------------


def _match_brace(text: str, i: int) -> int:
    """Index of the ``}`` closing the expression that starts at ``i`` (string literals skipped)."""
    depth = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            i, _ = _read_template(text, i + 1, quoted=True)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)


def _read_template(text: str, i: int, *, quoted: bool) -> tuple[int, list[str]]:
    """Scan template text from ``i``; return where it ends and the code of its ``${}``/``%{}``."""
    codes: list[str] = []
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quoted and c == '"':
            return i + 1, codes
        if c in "$%" and text.startswith("{", i + 1):
            if i > 0 and text[i - 1] == c:  # $${ and %%{ are literal
                i += 2
                continue
            end = _match_brace(text, i + 2)
            codes.append(text[i + 2 : end])
            i = end + 1
            continue
        i += 1
    return i, codes


def expression_code(value: str) -> list[str]:
    """The code segments of one python-hcl2 value: string literals blanked, templates opened."""
    if value.startswith('"<<'):  # heredoc: quotes inside are text
        return [part for code in _read_template(value[1:-1], 0, quoted=False)[1] for part in _code_parts(code)]
    if value.startswith('"'):
        return [part for code in _read_template(value, 1, quoted=True)[1] for part in _code_parts(code)]
    if value.startswith("${") and value.endswith("}"):
        return _code_parts(value[2:-1])
    return []


def _code_parts(code: str) -> list[str]:
    out: list[str] = []
    nested: list[str] = []
    i = 0
    while i < len(code):
        c = code[i]
        if c == '"':
            j, inner = _read_template(code, i + 1, quoted=True)
            for part in inner:
                nested.extend(_code_parts(part))
            out.append('""')
            i = j
            continue
        if code.startswith("<<", i) and re.match(r"<<-?[A-Z]+\n", code[i:]):
            m = re.match(r"<<-?([A-Z]+)\n", code[i:])
            assert m
            end = code.find("\n", i)
            close = re.search(rf"\n\s*{m.group(1)}\b", code[end:])
            stop = end + (close.end() if close else len(code))
            for part in _read_template(code[end:stop], 0, quoted=False)[1]:
                nested.extend(_code_parts(part))
            out.append('""')
            i = stop
            continue
        out.append(c)
        i += 1
    return ["".join(out), *nested]


_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_INDEX = r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]"
REFERENCE = re.compile(rf"(?<![\w.\])\]])({_IDENT})((?:\s*\.\s*(?:{_IDENT}|\d+|\*)|\s*{_INDEX})*)")
_SEGMENT = re.compile(rf"\.\s*({_IDENT}|\d+|\*)|({_INDEX})")


def references(value: Any) -> list[tuple[str, list[str]]]:
    """Every ``root.seg[...]...`` traversal in a value; index segments come back as ``[]``."""
    found: list[tuple[str, list[str]]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("__"):
                found.extend(references(item))
        return found
    if isinstance(value, list):
        for item in value:
            found.extend(references(item))
        return found
    if not isinstance(value, str):
        return found
    for code in expression_code(value):
        for m in REFERENCE.finditer(code):
            rest = code[m.end() :].lstrip()
            if rest.startswith("(") or rest.startswith("::"):
                continue  # a function call
            segments = ["[]" if idx else attr for attr, idx in _SEGMENT.findall(m.group(2))]
            if segments:
                found.append((m.group(1), segments))
    return found


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------


def _node_names(node: dict[str, Any]) -> set[str]:
    return (
        set(node.get("attributes", []))
        | set(node.get("computed", []))
        | set(node.get("blocks", {}))
        | set(node.get("objects", {}))
    )


def _suggest(name: str, options: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _provider_of(type_name: str, body: dict[str, Any]) -> str:
    explicit = body.get("provider")
    if isinstance(explicit, str):
        code = explicit.strip('"')
        if code.startswith("${") and code.endswith("}"):
            code = code[2:-1]
        return code.split(".")[0].strip()
    return type_name.split("_")[0]


def check_body(
    body: dict[str, Any],
    node: dict[str, Any],
    where: str,
    errors: list[str],
    meta: frozenset[str] | set[str] = frozenset(),
) -> None:
    attributes = set(node.get("attributes", []))
    blocks: dict[str, Any] = node.get("blocks", {})
    objects: dict[str, Any] = node.get("objects", {})
    computed = set(node.get("computed", []))
    present: set[str] = set()
    for key, value in body.items():
        if key.startswith("__") or key in meta:
            continue
        if key == "dynamic" and isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for dyn in value:
                for label, dbody in dyn.items():
                    if label.startswith("__"):
                        continue
                    bname = _unquote(label)
                    present.add(bname)
                    if bname not in blocks:
                        errors.append(f"{where}: unknown block '{bname}' (dynamic){_suggest(bname, set(blocks))}")
                        continue
                    for content in dbody.get("content", []):
                        check_body(content, blocks[bname], f"{where}.{bname}", errors)
            continue
        present.add(key)
        if _is_block_list(value):
            if key in META_BLOCKS and meta:
                continue
            if key in blocks:
                for child in value:
                    check_body(child, blocks[key], f"{where}.{key}", errors)
            elif key in attributes or key in objects:
                errors.append(f"{where}: '{key}' is an argument, not a block: write {key} = …")
            else:
                errors.append(f"{where}: unknown block '{key}'{_suggest(key, set(blocks) | attributes)}")
            continue
        if key in attributes or key in objects:
            continue
        if key in blocks:
            errors.append(f"{where}: '{key}' is a block, not an argument: write {key} {{ … }}")
        elif key in computed:
            errors.append(f"{where}: '{key}' is read-only (computed by the provider)")
        else:
            errors.append(f"{where}: unknown argument '{key}'{_suggest(key, attributes | set(blocks) | set(objects))}")
    for name in node.get("required", []):
        if name not in present:
            errors.append(f"{where}: required argument or block '{name}' is missing")


def _check_path(node: dict[str, Any], segments: list[str], where: str, label: str, errors: list[str]) -> None:
    """Follow ``.attr[0].attr`` through blocks and object attributes; stop at plain attributes."""
    i = 0
    while i < len(segments) and segments[i] in ("[]", "*"):
        i += 1
    while i < len(segments):
        seg = segments[i]
        names = _node_names(node) | {"id"}
        if seg not in names:
            errors.append(f"{where}: {label} has no attribute '{seg}'{_suggest(seg, names)}")
            return
        child = node.get("blocks", {}).get(seg) or node.get("objects", {}).get(seg)
        if child is None:
            return
        node, label = child, f"{label}.{seg}"
        i += 1
        while i < len(segments) and segments[i] in ("[]", "*"):
            i += 1


def check_references(decl: Declared, schema: dict[str, Any], errors: list[str]) -> None:
    declared = {kind: decl.blocks[kind] for kind in KINDS}
    resource_types = {t for t, _ in declared["resource"]}
    for file, where, body, has_for_each, has_count in decl.scopes:
        here = f"{file}: {where}"
        for root, segs in references(body):
            if root == "var":
                if segs[0] not in decl.variables:
                    errors.append(f"{here}: var.{segs[0]} is not declared{_suggest(segs[0], set(decl.variables))}")
            elif root == "local":
                if segs[0] not in decl.locals:
                    errors.append(f"{here}: local.{segs[0]} is not declared{_suggest(segs[0], set(decl.locals))}")
            elif root == "module":
                if segs[0] not in decl.modules:
                    errors.append(f"{here}: module.{segs[0]} is not declared")
            elif root == "each":
                if not has_for_each:
                    errors.append(f"{here}: each.{segs[0]} is used but this block has no for_each")
                elif segs[0] not in ("key", "value"):
                    errors.append(f"{here}: each.{segs[0]}: only each.key and each.value exist")
            elif root == "count":
                if not has_count:
                    errors.append(f"{here}: count.{segs[0]} is used but this block has no count")
                elif segs[0] != "index":
                    errors.append(f"{here}: count.{segs[0]}: only count.index exists")
            elif root == "path":
                if segs[0] not in ("module", "root", "cwd"):
                    errors.append(f"{here}: path.{segs[0]} does not exist")
            elif root in ("data", "ephemeral"):
                if len(segs) < 2:
                    errors.append(f"{here}: {root}.{'.'.join(segs)} is incomplete")
                    continue
                _check_instance(decl, schema, root, segs[0], segs[1], segs[2:], here, errors)
            elif root in resource_types or root.startswith(tuple(f"{p}_" for p in PROVIDER_PREFIXES)):
                if not segs or segs[0] in ("[]", "*"):
                    continue
                _check_instance(decl, schema, "resource", root, segs[0], segs[1:], here, errors)


def _check_instance(
    decl: Declared,
    schema: dict[str, Any],
    kind: str,
    type_name: str,
    name: str,
    rest: list[str],
    here: str,
    errors: list[str],
) -> None:
    prefix = "" if kind == "resource" else f"{kind}."
    found = decl.blocks[kind].get((type_name, name))
    if found is None:
        same_type = {n for t, n in decl.blocks[kind] if t == type_name}
        hint = _suggest(name, same_type) if same_type else ""
        errors.append(f"{here}: {prefix}{type_name}.{name} is not declared{hint}")
        return
    node = _lookup(schema, kind, type_name, _provider_of(type_name, found[1]))
    if node is not None:
        _check_path(node, rest, here, f"{prefix}{type_name}.{name}", errors)


def _lookup(schema: dict[str, Any], kind: str, type_name: str, provider: str) -> dict[str, Any] | None:
    return schema.get("providers", {}).get(provider, {}).get(kind, {}).get(type_name)


def check_types(decl: Declared, schema: dict[str, Any], errors: list[str]) -> None:
    for kind in KINDS:
        for (type_name, name), (file, body) in sorted(decl.blocks[kind].items()):
            provider = _provider_of(type_name, body)
            prefix = "" if kind == "resource" else f"{kind}."
            where = f"{file}: {prefix}{type_name}.{name}"
            pschema = schema.get("providers", {}).get(provider)
            if pschema is None:
                errors.append(f"{where}: provider '{provider}' is not in {SCHEMA_FILE.name}")
                continue
            node = pschema.get(kind, {}).get(type_name)
            if node is None:
                known = set(pschema.get(kind, {}))
                errors.append(
                    f"{where}: {kind} type '{type_name}' is not in the {provider} {pschema['version']} schema"
                    f"{_suggest(type_name, known)}; if it is new, regenerate: {REGENERATE}"
                )
                continue
            check_body(body, node, where, errors, META_ATTRS[kind] | META_BLOCKS)
    for pname, (file, body) in sorted(decl.providers.items()):
        pschema = schema.get("providers", {}).get(pname)
        if pschema is None or "provider" not in pschema:
            errors.append(f'{file}: provider "{pname}" is not in {SCHEMA_FILE.name}')
            continue
        check_body(body, pschema["provider"], f"{file}: provider {pname}", errors, {"alias"})


# --- version constraints ---------------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def admits(constraint: str, version: str) -> bool:
    """Whether a Terraform version constraint (``~> 6.50, >= 6.50.0``) admits ``version``."""
    have = _version(version)
    for part in constraint.split(","):
        m = re.fullmatch(r"\s*(~>|>=|<=|!=|=|>|<)?\s*v?([\d.]+)\s*", part)
        if not m:
            return False
        op, want_text = m.group(1) or "=", m.group(2)
        want = _version(want_text)
        padded = want + (0,) * (3 - len(want))
        if op == "~>":
            upper = list(want[:-1]) if len(want) > 1 else [want[0]]
            upper[-1] += 1
            if not (have >= padded and have[: len(upper)] < tuple(upper)):
                return False
        elif not _COMPARE[op](have, padded):
            return False
    return True


def check_versions(decl: Declared, schema: dict[str, Any], errors: list[str]) -> None:
    for local_name, spec in sorted(decl.required_providers.items()):
        constraint = _unquote(str(spec.get("version", "")))
        pschema = schema.get("providers", {}).get(local_name)
        if pschema is None:
            errors.append(f"required_providers.{local_name}: not in {SCHEMA_FILE.name}; regenerate: {REGENERATE}")
        elif constraint and not admits(constraint, pschema["version"]):
            errors.append(
                f'required_providers.{local_name}: version "{constraint}" does not admit {pschema["version"]}, '
                f"the version the schema was extracted from; regenerate it for the new pin: {REGENERATE}"
            )


def check(tf_dir: Path, schema: dict[str, Any]) -> list[str]:
    decl, errors = load_tf(tf_dir)
    check_types(decl, schema, errors)
    check_references(decl, schema, errors)
    check_versions(decl, schema, errors)
    return errors


# --------------------------------------------------------------------------------------------
# Regenerating the schema from the cdktf packages
# --------------------------------------------------------------------------------------------

_ENTRY = re.compile(
    r'(\w+): \{\s*value: (.*?),\s*isBlock: (true|false),\s*type: "(\w+)",\s*storageClassType: "(\w+)",\s*\}', re.S
)
_GETTER = re.compile(r"this\.(?:get\w*Attribute|interpolationForAttribute)\('(\w+)'\)")
_NESTED = re.compile(r'new (\w+)\(this, "(\w+)"')
_STRUCT_FN = re.compile(r"(?<![\w.])([a-z]\w*)ToHclTerraform")  # not cdktf.stringToHclTerraform
_DOC_PROP = re.compile(r"#(\w+) [\w.]+#\w+\}\s*\*/\s*readonly (\w+)(\??):")


def _split_js(js: str) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """``*ToHclTerraform`` function bodies by struct name; class bodies by class name (with base)."""
    functions: dict[str, str] = {}
    classes: dict[str, tuple[str, str]] = {}
    for m in re.finditer(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}\n", js, re.S | re.M):
        functions[m.group(1)[0].upper() + m.group(1)[1:]] = m.group(2)
    for m in re.finditer(r"^class (\w+) extends cdktf\.(\w+) \{\n(.*?)^\}\n", js, re.S | re.M):
        classes[m.group(1)] = (m.group(2), m.group(3))
    return functions, classes


def _required(dts: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"^export interface (\w+)(?: extends [\w.]+)? \{\n(.*?)^\}\n", dts, re.S | re.M):
        out[m.group(1)] = {snake for snake, _camel, opt in _DOC_PROP.findall(m.group(2)) if not opt}
    return out


class _Lib:
    """One generated binding (lib/<name>/index.js + index.d.ts)."""

    def __init__(self, js: str, dts: str) -> None:
        self.functions, self.classes = _split_js(js)
        self.required = _required(dts)
        self.structs = {name[: -len("OutputReference")] for name in self.classes if name.endswith("OutputReference")}
        self.structs |= set(self.functions)

    def _struct_of(self, class_name: str) -> str | None:
        for suffix in ("OutputReference", "List", "Map", ""):
            if class_name.endswith(suffix):
                base = class_name[: len(class_name) - len(suffix)] if suffix else class_name
                if base in self.structs:
                    return base
        return None

    def node(self, entries_text: str, getters_text: str, required: set[str], seen: tuple[str, ...]) -> dict[str, Any]:
        attributes: set[str] = set()
        blocks: dict[str, Any] = {}
        objects: dict[str, Any] = {}
        for name, value, is_block, _kind, _storage in _ENTRY.findall(entries_text):
            struct_fn = next(iter(_STRUCT_FN.findall(value)), None)
            struct = struct_fn[0].upper() + struct_fn[1:] if struct_fn else None
            if struct and struct in self.structs and struct not in seen:
                child = self.struct_node(struct, seen)
                (blocks if is_block == "true" else objects)[name] = child
            else:
                attributes.add(name)
        computed: set[str] = set()
        for name in _GETTER.findall(getters_text):
            computed.add(name)
        for class_name, name in _NESTED.findall(getters_text):
            struct = self._struct_of(class_name)
            if name in blocks or name in objects:
                continue
            if struct and struct not in seen:
                objects[name] = self.struct_node(struct, seen)
            else:
                computed.add(name)
        computed -= attributes | set(blocks) | set(objects)
        node: dict[str, Any] = {"attributes": sorted(attributes)}
        if computed:
            node["computed"] = sorted(computed)
        if blocks:
            node["blocks"] = {k: blocks[k] for k in sorted(blocks)}
        if objects:
            node["objects"] = {k: objects[k] for k in sorted(objects)}
        need = sorted(required & (attributes | set(blocks) | set(objects)))
        if need:
            node["required"] = need
        return node

    def struct_node(self, struct: str, seen: tuple[str, ...]) -> dict[str, Any]:
        entries = self.functions.get(struct, "")
        getters = self.classes.get(f"{struct}OutputReference", ("", ""))[1]
        return self.node(entries, getters, self.required.get(struct, set()), (*seen, struct))

    def top_node(self, class_name: str) -> dict[str, Any]:
        body = self.classes[class_name][1]
        start = body.find("synthesizeHclAttributes() {")
        entries = body[start:] if start >= 0 else ""
        return self.node(entries, body, self.required.get(f"{class_name}Config", set()), (class_name,))


def _packages(source: Path) -> list[tuple[str, str, str, Path]]:
    """(provider local name, provider version, package@version, lib dir) of every cdktf package."""
    found = []
    for pkg in sorted(source.rglob("package.json")):
        try:
            meta = json.loads(pkg.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        provider = (meta.get("cdktf") or {}).get("provider") or {}
        if not str(meta.get("name", "")).startswith("@cdktf/provider-") or not provider:
            continue
        local = provider["name"].rsplit("/", 1)[-1]
        found.append((local, provider["version"], f"{meta['name']}@{meta['version']}", pkg.parent / "lib"))
    return found


def used_types(tf_dir: Path) -> dict[str, dict[str, set[str]]]:
    decl, errors = load_tf(tf_dir)
    if errors:
        raise SystemExit("\n".join(errors))
    used: dict[str, dict[str, set[str]]] = {}
    for kind in KINDS:
        for (type_name, _name), (_file, body) in decl.blocks[kind].items():
            used.setdefault(_provider_of(type_name, body), {}).setdefault(kind, set()).add(type_name)
    for local_name in decl.required_providers:
        used.setdefault(local_name, {})
    return used


def regenerate(source: Path, tf_dir: Path, out: Path) -> dict[str, Any]:
    used = used_types(tf_dir)
    manual = json.loads(MANUAL_FILE.read_text("utf-8")) if MANUAL_FILE.exists() else {"providers": {}}
    providers: dict[str, Any] = {}
    sources: dict[str, str] = {}
    missing: list[str] = []
    for local, version, package, lib in _packages(source):
        if local not in used:
            continue
        wanted = used[local]
        pschema: dict[str, Any] = {"version": version, "resource": {}, "data": {}, "ephemeral": {}}
        sources[local] = f"{package} (cdktf.provider: {local} {version})"
        for index in sorted(lib.glob("*/index.js")):
            js = index.read_text("utf-8")
            m = re.search(r"^(\w+)\.tfResourceType = \"([^\"]+)\";", js, re.M)
            if not m:
                continue
            class_name, type_name = m.group(1), m.group(2)
            dts_path = index.with_name("index.d.ts")
            lib_obj: _Lib | None = None
            base = re.search(rf"^class {class_name} extends cdktf\.(\w+)", js, re.M)
            kind = {
                "TerraformResource": "resource",
                "TerraformDataSource": "data",
                "TerraformProvider": "provider",
            }.get(base.group(1) if base else "", "")
            if kind == "provider":
                lib_obj = _Lib(js, dts_path.read_text("utf-8"))
                pschema["provider"] = lib_obj.top_node(class_name)
            elif kind and type_name in wanted.get(kind, set()):
                lib_obj = _Lib(js, dts_path.read_text("utf-8"))
                pschema[kind][type_name] = lib_obj.top_node(class_name)
        for kind, names in manual.get("providers", {}).get(local, {}).items():
            if kind in KINDS:
                for type_name, node in names.items():
                    if type_name in wanted.get(kind, set()):
                        pschema[kind][type_name] = {k: v for k, v in node.items() if not k.startswith("_")}
        for kind in KINDS:
            for type_name in sorted(wanted.get(kind, set()) - set(pschema[kind])):
                missing.append(f"{local} {kind} {type_name}")
            pschema[kind] = {k: pschema[kind][k] for k in sorted(pschema[kind])}
        providers[local] = pschema
    for local in sorted(set(used) - set(providers)):
        missing.append(f"provider {local} (no @cdktf package for it under {source})")
    if missing:
        raise SystemExit("not found in the packages: " + ", ".join(missing))
    doc = {
        "_generated_by": REGENERATE,
        "_sources": sources,
        "_manual": f"{MANUAL_FILE.relative_to(ROOT)} (ephemeral resources, from the providers' docs)",
        "providers": {k: providers[k] for k in sorted(providers)},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    # one type per line: small diffs when a resource type is added
    lines = ["{"]
    lines.append(f'  "_generated_by": {json.dumps(doc["_generated_by"])},')
    lines.append(f'  "_sources": {json.dumps(doc["_sources"], sort_keys=True)},')
    lines.append(f'  "_manual": {json.dumps(doc["_manual"])},')
    lines.append('  "providers": {')
    for pi, (pname, pschema) in enumerate(doc["providers"].items()):
        lines.append(f"    {json.dumps(pname)}: {{")
        lines.append(f'      "version": {json.dumps(pschema["version"])},')
        if "provider" in pschema:
            lines.append(f'      "provider": {json.dumps(pschema["provider"], sort_keys=True)},')
        for ki, kind in enumerate(KINDS):
            entries = list(pschema[kind].items())
            lines.append(f'      "{kind}": {{' + ("" if entries else "}" + ("," if ki < 2 else "")))
            for ei, (type_name, node) in enumerate(entries):
                comma = "," if ei < len(entries) - 1 else ""
                lines.append(f"        {json.dumps(type_name)}: {json.dumps(node, sort_keys=True)}{comma}")
            if entries:
                lines.append("      }" + ("," if ki < 2 else ""))
        lines.append("    }" + ("," if pi < len(doc["providers"]) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    out.write_text("\n".join(lines) + "\n", "utf-8")
    json.loads(out.read_text("utf-8"))  # the hand-written layout is valid JSON
    return doc


# --------------------------------------------------------------------------------------------


def load_schema(path: Path = SCHEMA_FILE) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.tf_schema", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=TF_DIR, help="Terraform directory to check (default infra/terraform)"
    )
    parser.add_argument(
        "--schema", type=Path, default=SCHEMA_FILE, help="schema JSON (default infra/schema/providers.json)"
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="rebuild the schema JSON from unpacked cdktf packages"
    )
    parser.add_argument(
        "--from", dest="source", type=Path, help="directory holding the unpacked @cdktf/provider-* packages"
    )
    args = parser.parse_args(argv)
    if args.regenerate:
        if not args.source:
            parser.error("--regenerate needs --from <dir>")
        doc = regenerate(args.source, args.dir, args.schema)
        counts = ", ".join(
            f"{p} {s['version']}: " + "/".join(str(len(s[k])) for k in KINDS) for p, s in doc["providers"].items()
        )
        print(f"tf_schema: wrote {args.schema} ({counts} resource/data/ephemeral types)")
        return 0
    try:
        schema = load_schema(args.schema)
    except (OSError, ValueError) as exc:
        print(f"tf_schema: cannot read {args.schema}: {exc}", file=sys.stderr)
        return 1
    errors = check(args.dir, schema)
    versions = ", ".join(f"{name} {p['version']}" for name, p in schema["providers"].items())
    if errors:
        for line in errors:
            print(f"tf_schema: {line}", file=sys.stderr)
        print(f"tf_schema: {len(errors)} finding(s) in {args.dir} against {versions}", file=sys.stderr)
        return 1
    files = len(list(args.dir.glob("*.tf")))
    print(f"tf_schema: {files} files in {args.dir} match the schema of {versions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
