"""The WIT's values as JSON-shaped Python values (see rules.py's docstring) and back:
one codec per type, built from the component's own types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wasmtime import component as wc

# Converting between wasmtime-py's values and the JSON shapes above.
#
# wasmtime-py returns a record as a `Record` with one attribute per field, and a
# variant, option or result *untagged* (just the payload) when the Python types of its
# cases cannot be confused, `Variant(tag, payload)` otherwise: `result<plan,
# list<config-error>>` comes back as a `Record` or a `list`, `credentials-source` as
# None, a str or a list, but `result<string, string>` as `Variant("ok", "...")`. The
# codecs below are built once per function from the component's own types, so they
# know which case a value is without guessing from its shape.

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (lower, lift)


def _identity(v: Any) -> Any:
    return v


def _classes(ty: Any) -> set:
    s: set = set()
    ty.add_classes(s)
    return s


def _cases_info(cases):
    """[(name, codec-or-None, python classes)] and whether wasmtime-py tags them.

    This mirrors how wasmtime-py decides: tagged as soon as two cases share a Python
    class (a case without payload counts as `object`)."""
    seen: set = set()
    tagged = False
    info = []
    for name, ty in cases:
        cls = {object} if ty is None else _classes(ty)
        if cls & seen:
            tagged = True
        seen |= cls
        info.append((name, None if ty is None else codec(ty), cls))
    return info, tagged


def _case_of(info, value):
    """The case an untagged value belongs to: the one whose classes match, the
    catch-all (`object`) case last."""
    fallback = None
    for name, codec, cls in info:
        if object in cls:
            fallback = (name, codec)
        elif isinstance(value, tuple(cls)):
            return name, codec
    if fallback is None:
        raise TypeError(f"cannot tell which case {value!r} is")
    return fallback


def codec(ty: Any) -> Codec:
    if isinstance(ty, (wc.F64, wc.F32)):
        return (lambda v: float(v)), _identity
    if isinstance(ty, (wc.S8, wc.S16, wc.S32, wc.S64, wc.U8, wc.U16, wc.U32, wc.U64)):
        return (lambda v: int(v)), _identity
    if isinstance(ty, (wc.Bool, wc.String, wc.Char, wc.EnumType)):
        return _identity, _identity
    if isinstance(ty, wc.FlagsType):
        names = ty.names
        return (lambda v: set(v)), (lambda v: [n for n in names if n in v])
    if isinstance(ty, wc.ListType) and isinstance(ty.element, wc.U8):
        return (lambda v: bytes(v)), (lambda v: list(v))  # wasmtime-py: list<u8> is bytes
    if isinstance(ty, wc.ListType):
        lower, lift = codec(ty.element)
        return (lambda v: [lower(x) for x in v]), (lambda v: [lift(x) for x in v])
    if isinstance(ty, wc.TupleType):
        codecs = [codec(t) for t in ty.elements]
        return (
            lambda v: tuple(c[0](x) for c, x in zip(codecs, v, strict=True)),
            lambda v: [c[1](x) for c, x in zip(codecs, v, strict=True)],
        )
    if isinstance(ty, wc.RecordType):
        fields = [(name, *codec(t)) for name, t in ty.fields]

        def lower_record(v: dict) -> wc.Record:
            r = wc.Record()
            for name, lower, _ in fields:
                if name not in v:
                    raise KeyError(f"missing record field {name!r}")
                setattr(r, name, lower(v[name]))
            return r

        def lift_record(v: wc.Record) -> dict:
            return {name: lift(getattr(v, name)) for name, _, lift in fields}

        return lower_record, lift_record
    if isinstance(ty, wc.OptionType):
        info, tagged = _cases_info([("none", None), ("some", ty.payload)])
        lower, lift = info[1][1]
        if tagged:
            return (
                lambda v: wc.Variant("none") if v is None else wc.Variant("some", lower(v)),
                lambda v: None if v.tag == "none" else lift(v.payload),
            )
        return (lambda v: None if v is None else lower(v)), (lambda v: None if v is None else lift(v))
    if isinstance(ty, (wc.ResultType, wc.VariantType)):
        is_result = isinstance(ty, wc.ResultType)
        cases = [("ok", ty.ok), ("err", ty.err)] if is_result else ty.cases
        info, tagged = _cases_info(cases)
        by_name = {name: codec for name, codec, _ in info}

        def lower_variant(v: dict) -> Any:
            if is_result:
                ((tag, payload),) = v.items()
            else:
                tag, payload = v["tag"], v.get("val")
            codec = by_name[tag]
            raw = None if codec is None else codec[0](payload)
            return wc.Variant(tag, raw) if tagged else raw

        def lift_variant(v: Any) -> dict:
            if tagged:
                tag, payload = v.tag, v.payload
                codec = by_name[tag]
            else:
                tag, codec = _case_of(info, v)
                payload = v
            if is_result:
                return {tag: None if codec is None else codec[1](payload)}
            if codec is None:
                return {"tag": tag}
            return {"tag": tag, "val": codec[1](payload)}

        return lower_variant, lift_variant
    raise NotImplementedError(f"no JSON mapping for {type(ty).__name__}")
