"""Attributes of a CityGML city object, flattened to ``{name: value}``.

- Generic attributes (2.0 ``gen:stringAttribute name="..."``, 3.0
  ``core:genericAttribute/gen:StringAttribute`` with ``gen:name``): the attribute's own
  name; int and double (and measure) attributes are numbers, everything else strings.
  Members of a generic attribute set are named ``set.member``.
- CityGML properties (``class``, ``function``, ``usage``, ``yearOfConstruction``,
  ``measuredHeight``, ``storeysAboveGround``, ...): their local name; numbers where the
  schema says so (:data:`NUMERIC`) or where the element carries a ``uom``.
  ``gml:name`` and ``gml:description`` become ``name`` and ``description``.
- Addresses (xAL 2 or 3): ``address``, the text of every leaf joined with ", ".
- Nested properties (3.0 ``con:height/con:Height/con:value``): the property names joined
  with "." (type elements such as ``Height`` are left out): ``height.value``.
- ADE attributes (any namespace outside CityGML, GML and xAL, e.g. PLATEAU ``uro`` or
  3CIM): keyed ``prefix:name`` with the file's prefix for the namespace (``{uri}name``
  when it has none), nested ones ``prefix:name.child``. 3.0 ``adeOf...`` wrappers and type
  elements are left out, so 2.0 and 3.0 give the same keys. The reader names every ADE
  namespace with its prefix in one line of the report's warnings.

A name seen twice keeps all values, as a list.
"""

from __future__ import annotations

from typing import Any

from .citygml_geometry import GML_NAMESPACES, local

#: CityGML properties whose values are numbers (the rest stay strings).
NUMERIC = {
    "measuredHeight",
    "storeysAboveGround",
    "storeysBelowGround",
    "yearOfConstruction",
    "yearOfDemolition",
    "averageHeight",
    "value",
    "lod",
}
_INTS = {"storeysAboveGround", "storeysBelowGround", "yearOfConstruction", "yearOfDemolition"}
_GENERIC_2 = {
    "stringAttribute": "str",
    "intAttribute": "int",
    "doubleAttribute": "float",
    "dateAttribute": "str",
    "uriAttribute": "str",
    "measureAttribute": "float",
    "genericAttributeSet": "set",
}
_GENERIC_3 = {
    "StringAttribute": "str",
    "IntAttribute": "int",
    "DoubleAttribute": "float",
    "DateAttribute": "str",
    "UriAttribute": "str",
    "MeasureAttribute": "float",
    "CodeAttribute": "str",
    "GenericAttributeSet": "set",
}
#: Children of a city object that are not attributes (geometry, structure, appearance).
_SKIP = {
    "boundedBy",
    "boundary",
    "appearance",
    "appearanceMember",
    "lod",
    "tin",
    "grid",
    "breaklines",
    "masspointRelief",
    "extent",
    "relativeToTerrain",
    "relativeToWater",
    "groupMember",
    "parent",
    "opening",
    "fillingSurface",
    "externalReference",
    "generalizesTo",
    "relatedTo",
    "pointCloud",
    "dynamizer",
    "creationDate",
    "terminationDate",
    "validFrom",
    "validTo",
}


def is_citygml(ns: str) -> bool:
    return "opengis.net/citygml" in ns or ns.endswith("/citygml") or "/citygml/" in ns


def is_known(ns: str) -> bool:
    """CityGML, GML, xAL, xlink or XML Schema: not an ADE."""
    return (
        is_citygml(ns)
        or ns in GML_NAMESPACES
        or "xAL" in ns
        or "ciq:xal" in ns
        or ns.startswith("http://www.w3.org/")
    )


def namespace(tag: Any) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1 : tag.index("}")]


def attributes(obj: Any, skip: set[str], ade: dict[str, str]) -> dict[str, Any]:
    """The attributes of city object element ``obj``; ``skip`` names its geometry and part
    properties. ``ade`` collects the ADE namespaces seen, by prefix."""
    out: dict[str, Any] = {}
    for child in obj:
        name = local(child.tag)
        if not name or name in skip or name in _SKIP or name.startswith("lod"):
            continue
        ns = namespace(child.tag)
        if ns in GML_NAMESPACES:
            if name in ("name", "description") and child.text and child.text.strip():
                _put(out, name, child.text.strip())
            continue
        if name in _GENERIC_2:
            _generic2(child, out, "")
        elif name == "genericAttribute":
            for g in child:
                _generic3(g, out, "")
        elif name == "address":
            text = ", ".join(t.strip() for t in child.itertext() if t.strip())
            if text:
                _put(out, "address", text)
        elif not is_known(ns):
            _ade(child, _key(child, ade), out, ade)
        elif name.startswith("adeOf"):
            for c in child:  # 3.0 wrapper: <adeOfAbstractBuilding><uro:BuildingProperties>
                for prop in c:
                    if local(prop.tag):
                        _ade(prop, _key(prop, ade), out, ade)
        else:
            _nested(child, name, out)
    return out


def _key(elem: Any, ade: dict[str, str]) -> str:
    ns = namespace(elem.tag)
    name = local(elem.tag)
    if not ns:
        return name
    if is_known(ns):
        return name
    prefix = elem.prefix
    if prefix:
        ade.setdefault(prefix, ns)
        return f"{prefix}:{name}"
    return f"{{{ns}}}{name}"


def _ade(elem: Any, key: str, out: dict[str, Any], ade: dict[str, str]) -> None:
    """An ADE property: its text, or its nested properties as ``key.child``."""
    kids = [c for c in elem if local(c.tag)]
    if not kids:
        text = (elem.text or "").strip()
        if text or elem.get("{http://www.w3.org/1999/xlink}href"):
            _put(out, key, _typed(text, elem.get("uom") is not None, False) if text else "")
        return
    for c in kids:
        name = local(c.tag)
        if name[:1].isupper():  # a type element: its properties belong to ``key``
            for prop in c:
                if local(prop.tag):
                    _ade(prop, f"{key}.{local(prop.tag)}", out, ade)
        else:
            _ade(c, f"{key}.{name}", out, ade)


def _nested(elem: Any, key: str, out: dict[str, Any]) -> None:
    kids = [c for c in elem if local(c.tag)]
    if not kids:
        text = (elem.text or "").strip()
        if text:
            name = local(elem.tag)
            numeric = name in NUMERIC or elem.get("uom") is not None
            _put(out, key, _typed(text, numeric, name in _INTS))
        return
    for c in kids:
        name = local(c.tag)
        if name[:1].isupper():
            for prop in c:
                if local(prop.tag):
                    _nested(prop, f"{key}.{local(prop.tag)}", out)
        else:
            _nested(c, f"{key}.{name}", out)


def _generic2(elem: Any, out: dict[str, Any], prefix: str) -> None:
    kind = _GENERIC_2.get(local(elem.tag))
    name = elem.get("name") or ""
    if kind == "set":
        for c in elem:
            _generic2(c, out, f"{prefix}{name}.")
        return
    if kind is None or not name:
        return
    value = next((c for c in elem if local(c.tag) == "value"), None)
    text = (value.text or "").strip() if value is not None else ""
    _put(out, prefix + name, _typed(text, kind != "str", kind == "int"))


def _generic3(elem: Any, out: dict[str, Any], prefix: str) -> None:
    kind = _GENERIC_3.get(local(elem.tag))
    if kind is None:
        return
    fields = {local(c.tag): c for c in elem if local(c.tag)}
    name_el = fields.get("name")
    name = (name_el.text or "").strip() if name_el is not None else ""
    if not name:
        return
    if kind == "set":
        for c in elem:
            if local(c.tag) == "value":
                for g in c:
                    _generic3(g, out, f"{prefix}{name}.")
        return
    value = fields.get("value")
    text = (value.text or "").strip() if value is not None else ""
    _put(out, prefix + name, _typed(text, kind != "str", kind == "int"))


def _typed(text: str, numeric: bool, integer: bool) -> Any:
    if not numeric or not text:
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    if integer and number.is_integer():
        return int(number)
    return number


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]
