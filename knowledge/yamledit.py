"""Change fields of one handbook YAML file and keep everything else as written: comments, key
order, flow lists. A console edit of one item then shows in the version diff as the lines that
changed, not as the whole file re-emitted (ruamel.yaml's round trip; pyyaml drops comments)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

DELETE = object()  # a value meaning "remove this key"


class YamlEditError(ValueError):
    """The file is not a YAML mapping (the validator words it for the file's editor)."""


def _yaml(*, top_level: bool = False) -> YAML:
    """The handbook's layout: lists indented under their key; `top_level`: a form's block, whose
    list starts at the left margin."""
    yaml = YAML()
    yaml.width = 4096  # never re-wrap a long line nobody changed
    yaml.preserve_quotes = True
    if top_level:
        yaml.indent(mapping=2, sequence=2, offset=0)
    else:
        yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str) -> CommentedMap:
    try:
        data = _yaml().load(text)
    except YAMLError as exc:
        raise YamlEditError(f"not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(data, CommentedMap):
        raise YamlEditError("must be a mapping of fields")
    return data


def dump(data: Any, *, top_level: bool = False) -> str:
    out = io.StringIO()
    _yaml(top_level=top_level).dump(data, out)
    return out.getvalue()


def plain(value: Any) -> Any:
    """The value as plain dicts, lists and scalars (what a form shows and compares)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def same(old: Any, new: Any) -> bool:
    """Equal as the handbook reads them: a form sends text, so 3600 in a file and "3600" from the
    form are the same keyword (the loader reads both as text); true and "true" are not."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(new, str) and isinstance(old, (int, float)) and not isinstance(old, bool):
        return str(old) == new
    return bool(plain(old) == new)


def set_fields(text: str, values: dict[str, Any]) -> str:
    """`text` with each top-level key of `values` set (DELETE removes it); unchanged values keep
    their original lines. Mappings are merged key by key; a list that only grew is appended to."""
    data = load(text)
    _merge(data, values)
    return dump(data)


def parse_fragment(text: str) -> Any:
    """One block of a form written as YAML (a list of documents, the order block …)."""
    try:
        return plain(_yaml().load(text)) if text.strip() else None
    except YAMLError as exc:
        raise YamlEditError(f"not valid YAML: {exc}".replace("\n", " ")) from None


def fragment(value: Any) -> str:
    """A block's value as YAML for a form's text box ('' for none): a list of mappings one entry a
    line ({name: …, form: …}), as the handbook files write documents."""
    if value is None:
        return ""
    if isinstance(value, list) and value and all(isinstance(e, dict) for e in value):
        seq = CommentedSeq()
        for entry in value:
            mapping = CommentedMap(entry)
            if all(not isinstance(v, (dict, list)) for v in entry.values()):
                mapping.fa.set_flow_style()
            seq.append(mapping)
        return dump(seq, top_level=True)
    return dump(value, top_level=True)


def _merge(target: CommentedMap, values: dict[str, Any]) -> None:
    for key, value in values.items():
        old = target.get(key)
        if value is DELETE:
            target.pop(key, None)
        elif isinstance(value, dict):
            if not isinstance(old, CommentedMap):  # a block the file did not have (or not as a mapping)
                old = target[key] = CommentedMap()
            _merge(old, value)  # keys not named stay as they are (DELETE removes one)
        elif key in target and same(old, value):
            continue
        elif isinstance(value, list) and isinstance(old, CommentedSeq) and same(old, value[: len(old)]):
            old.extend(value[len(old) :])
        else:
            target[key] = _styled(value, old)


def _styled(value: Any, old: Any) -> Any:
    """A new list keeps the old one's style: flow ([a, b, c]) where it had it, unchanged entries as
    written, and a mapping entry in flow style ({name: …, form: …}) like the entries it joins."""
    if not isinstance(value, list) or not isinstance(old, CommentedSeq):
        return value
    flow_maps = any(isinstance(e, CommentedMap) and e.fa.flow_style() for e in old)
    seq = CommentedSeq()
    for index, entry in enumerate(value):
        kept = old[index] if index < len(old) else None
        if kept is not None and same(kept, entry):
            seq.append(kept)
        elif isinstance(entry, dict) and flow_maps:
            mapping = CommentedMap(entry)
            mapping.fa.set_flow_style()
            seq.append(mapping)
        else:
            seq.append(entry)
    if old.fa.flow_style():
        seq.fa.set_flow_style()
    return seq
