"""Task data merges that never write into a dict or list another task may hold.

SpiffWorkflow passes data from task to task with `DeepMerge.merge`, which copies the parent's top-level values
shallowly — so nested dicts and lists are shared between a task, its parent and its siblings — and then merges
nested dicts and lists IN PLACE. A join (or a multi-instance gathering its instances) therefore writes one
branch's values into objects other branches still hold, and what a finished task's data looks like afterwards
depends on how the merges interleaved and on whether the case was reloaded in between (a reload separates the
objects). A replay then cannot reproduce the stored state, and a branch may see a sibling's `item`.

This merge has the library's semantics (same keys and values, same order of precedence) but copies on write:
a nested dict or list is replaced by a merged copy, never changed where it is. It is installed once, for every
workflow of the platform, by `install()`.
"""
from __future__ import annotations

from copy import copy

from SpiffWorkflow.util.deep_merge import DeepMerge

_MUTABLE = (dict, list, set)


def merge(a: dict, b: dict, path=None) -> dict:
    """Merge `b` into `a` (a task's own data dict), replacing nested values instead of changing them."""
    for key in b:
        new = b[key]
        if key in a:
            old = a[key]
            if old == new:
                continue
            if isinstance(old, dict) and isinstance(new, dict):
                a[key] = merge(dict(old), new)
                continue
            if isinstance(old, list) and isinstance(new, list):
                a[key] = merge_array(list(old), new)
                continue
        a[key] = copy(new) if isinstance(new, _MUTABLE) else new
    return a


def merge_array(a: list, b: list, path=None) -> list:
    """The library's list merge (items of `b` not yet in `a` appended, dicts merged by position, trimmed to the
    length of `b`) on a list the caller owns."""
    seen_hashable, seen_unhashable = set(), []
    for item in a:
        try:
            seen_hashable.add(item)
        except TypeError:
            seen_unhashable.append(item)
    for idx, val in enumerate(b):
        if isinstance(val, dict):
            if len(a) > idx:
                a[idx] = merge(dict(a[idx]), val) if isinstance(a[idx], dict) else copy(val)
            else:
                a.append(copy(val))
            continue
        try:
            if val in seen_hashable:
                continue
            seen_hashable.add(val)
        except TypeError:
            if val in seen_unhashable:
                continue
            seen_unhashable.append(val)
        a.append(val)
    del a[len(b):]
    return a


def install() -> None:
    """Replace the library's merge (every caller looks it up on the class at call time)."""
    DeepMerge.merge = staticmethod(merge)
    DeepMerge.merge_array = staticmethod(merge_array)


install()
