"""What a form field error says to a person: the field's label (its schema `title`) and what is wrong, in Chinese
and English (engine.messages.Message), never the submitted value itself (it may be long, or private)."""
from __future__ import annotations

from ..messages import Message, short

# ---------------------------------------------------------------- labels


def _resolve(root: dict, ref: str):
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _expand(node, root: dict, depth: int = 0):
    """`node` and the schemas combined into it (local $ref, allOf/anyOf/oneOf, then/else)."""
    if not isinstance(node, dict) or depth > 8:
        return
    yield node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        yield from _expand(_resolve(root, ref), root, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            yield from _expand(sub, root, depth + 1)
    for key in ("then", "else"):
        yield from _expand(node.get(key), root, depth + 1)


def schemas_at(root: dict, path) -> list[dict]:
    """Every subschema that describes the value at `path` (keys and array indices) of data for `root`."""
    nodes = [root]
    for key in path:
        found = []
        for node in nodes:
            for n in _expand(node, root):
                if isinstance(key, int):
                    prefix = n.get("prefixItems") or []
                    if key < len(prefix):
                        found.append(prefix[key])
                    if isinstance(n.get("items"), dict):
                        found.append(n["items"])
                elif key in (n.get("properties") or {}):
                    found.append(n["properties"][key])
        nodes = found
    return [n for node in nodes for n in _expand(node, root)]


def _title(root: dict, path) -> str | None:
    return next((n["title"] for n in schemas_at(root, path) if isinstance(n.get("title"), str) and n["title"]), None)


def label_of(root: dict, path: list) -> Message:
    """The field's title; inside a list, which item ('股东第 2 项的姓名'); the key when no title is given."""
    leaf = _title(root, path) or (str(path[-1]) if path else "")
    last = max((i for i, key in enumerate(path) if isinstance(key, int)), default=None)
    if last is None:
        return Message(leaf)
    whole = _title(root, path[:last]) or (str(path[last - 1]) if last else "")
    n = path[last] + 1
    if last == len(path) - 1:
        return Message(f"{whole}第 {n} 项", f"{whole} #{n}")
    return Message(f"{whole}第 {n} 项的{leaf}", f"{leaf} of {whole} #{n}")


# ---------------------------------------------------------------- messages
TYPES = {"string": ("文本", "text"), "integer": ("整数", "a whole number"), "number": ("数字", "a number"),
         "boolean": ("是或否", "yes or no"), "array": ("列表", "a list"), "object": ("对象", "an object"),
         "null": ("空值", "empty")}


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def required(label: str) -> Message:
    return Message(f"{label}为必填项", f"{label} is required")


def _choices(err, label: Message) -> Message:
    values = err.validator_value or []
    if len(values) > 8:
        return Message(f"{label}不在可选项中", f"{label.en} must be one of the listed choices")
    shown = "、".join(short(v) for v in values)  # a plain enum has no labels: labelled choices are oneOf
    return Message(f"{label}应为以下之一：{shown}", f"{label.en} must be one of: {shown.replace('、', ', ')}")


def _format(err, label: Message) -> Message:
    reason = getattr(err.cause, "reason", None)
    if isinstance(reason, Message):
        return Message(f"{label}有误：{reason}", f"{label.en} is not valid: {reason.en}")
    if err.validator_value == "date":
        return Message(f"{label}应为日期，如 2026-01-31", f"{label.en} must be a date such as 2026-01-31")
    return Message(f"{label}格式不正确", f"{label.en} is not in the expected format")


def _alternatives(err, root: dict, path: list, label: Message) -> Message:
    """anyOf/oneOf: choices written as {const, title}, or 'give one of these fields', or a plain 'not valid'."""
    branches = [b for b in err.validator_value if isinstance(b, dict)]
    if branches and all("const" in b for b in branches):
        shown = "、".join(short(b.get("title", b["const"])) for b in branches[:8])
        return Message(f"{label}应为以下之一：{shown}", f"{label.en} must be one of: {shown.replace('、', ', ')}")
    if branches and all(set(b) == {"required"} for b in branches):
        names = "、".join(str(label_of(root, path + [b["required"][0]])) for b in branches if b["required"])
        if err.validator == "oneOf" and not err.context:  # more than one branch matched
            return Message(f"以下各项只能填写其一：{names}", f"give only one of: {names.replace('、', ', ')}")
        return Message(f"请填写以下各项之一：{names}", f"give one of: {names.replace('、', ', ')}")
    return Message(f"{label}不符合要求", f"{label.en} is not valid")


def message_for(err, root: dict, path: list) -> Message:
    """The message for one jsonschema error about the field at `path` (not for `required`: see required())."""
    label = label_of(root, path)
    v, limit = err.validator, err.validator_value
    en = label.en
    if v == "type":
        kinds = [limit] if isinstance(limit, str) else list(limit)
        zh = "或".join(TYPES.get(k, (k, k))[0] for k in kinds)
        return Message(f"{label}应为{zh}", f"{en} must be {' or '.join(TYPES.get(k, (k, k))[1] for k in kinds)}")
    if v == "enum":
        return _choices(err, label)
    if v == "const":
        if limit is True:
            return Message(f"{label}须勾选", f"{en} must be ticked")
        if limit is False:
            return Message(f"{label}不能勾选", f"{en} must not be ticked")
        return Message(f"{label}应为 {short(limit)}", f"{en} must be {short(limit)}")
    if v == "format":
        return _format(err, label)
    if v == "pattern":
        return Message(f"{label}格式不正确", f"{en} is not in the expected format")
    if v == "minimum":
        return Message(f"{label}不能小于 {_num(limit)}", f"{en} must not be less than {_num(limit)}")
    if v == "maximum":
        return Message(f"{label}不能大于 {_num(limit)}", f"{en} must not be more than {_num(limit)}")
    if v == "exclusiveMinimum":
        return Message(f"{label}必须大于 {_num(limit)}", f"{en} must be more than {_num(limit)}")
    if v == "exclusiveMaximum":
        return Message(f"{label}必须小于 {_num(limit)}", f"{en} must be less than {_num(limit)}")
    if v == "multipleOf":
        return Message(f"{label}应为 {_num(limit)} 的整数倍", f"{en} must be a multiple of {_num(limit)}")
    if v == "minLength":
        if limit == 1:
            return Message(f"{label}不能为空", f"{en} must not be empty")
        return Message(f"{label}至少 {limit} 个字符", f"{en} must have at least {limit} characters")
    if v == "maxLength":
        return Message(f"{label}不能超过 {limit} 个字符", f"{en} must have at most {limit} characters")
    if v == "minItems":
        return Message(f"{label}至少需要 {limit} 项", f"{en} needs at least {limit} item(s)")
    if v == "maxItems":
        return Message(f"{label}最多 {limit} 项", f"{en} may have at most {limit} item(s)")
    if v == "uniqueItems":
        return Message(f"{label}有重复项", f"{en} has repeated items")
    if v in ("contains", "minContains", "maxContains"):
        return Message(f"{label}缺少必需的项", f"{en} lacks a required item")
    if v in ("anyOf", "oneOf"):
        return _alternatives(err, root, path, label)
    if v == "not":
        return Message(f"{label}不能取这个值", f"{en} may not have this value")
    if v in ("minProperties", "maxProperties", "propertyNames", "unevaluatedProperties"):
        return Message(f"{label}的内容不符合要求", f"{en} has content that is not allowed")
    return Message(f"{label}不符合要求", f"{en} is not valid")


def unknown_field(name: str) -> Message:
    return Message(f"表单中没有“{short(name)}”这一项", f"“{short(name)}” is not a field of this form")
