"""mkdocs hooks: the JSON page is written from the schemas in the package
(focalcli/schemas.py), so the documented keys cannot drift from the checked
ones."""
from __future__ import annotations

MARKER = "<!-- schemas -->"


def _rows(schema: dict, prefix: str = "") -> list[str]:
    """One table row per documented key, nested objects and lists of
    objects flattened with dots and []."""
    rows = []
    required = set(schema.get("required", ()))
    for key, spec in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        rows.append(f"| `{name}` | {_type(spec)} | {'yes' if key in required else ''} |")
        inner = _object(spec)
        if inner is not None and name.count(".") < 2:
            rows += _rows(inner, name + ".")
        items = _items(spec)
        if items is not None and name.count(".") < 2:
            rows += _rows(items, name + "[].")
    return rows


def _object(spec):
    for s in [spec] + spec.get("anyOf", []):
        if s.get("type") == "object" and s.get("properties"):
            return s
    return None


def _items(spec):
    for s in [spec] + spec.get("anyOf", []):
        if s.get("type") == "array" and isinstance(s.get("items"), dict) and \
                s["items"].get("properties"):
            return s["items"]
    return None


def _type(spec: dict) -> str:
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    if "enum" in spec:
        return " / ".join("null" if v is None else f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    kind = spec.get("type", "any")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array":
        return f"array of {_type(spec.get('items', {}))}"
    bounds = []
    for word, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                       ("exclusiveMaximum", "<")):
        if word in spec:
            bounds.append(f"{sign} {spec[word]:g}")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def on_page_markdown(markdown: str, page, config, files):
    if MARKER not in markdown:
        return markdown
    from focalcli.schemas import KINDS, schema
    parts = []
    for kind in KINDS:
        doc = schema(kind)
        parts += [f"## focal {kind}", "",
                  f"`focal schema {kind}` prints this schema ({doc['$schema']}).", "",
                  "| key | type | required |", "|---|---|---|", *_rows(doc), ""]
    return markdown.replace(MARKER, "\n".join(parts))
