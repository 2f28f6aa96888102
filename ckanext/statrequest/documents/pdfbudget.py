"""A cheap structural check of an untrusted PDF, run before pyHanko looks at it.

pyHanko walks some structures naively: the form-field tree (``/AcroForm /Fields`` and
``/Kids``) is followed without remembering visited nodes, and its work grows with the number
of signatures times the number of revisions. A file of one or two kilobytes whose tree nodes
share their children (every level pointing twice to the next) therefore costs 2^levels steps,
and a few hundred signatures cost minutes. This module measures those structures with bounded
walks that remember what they visited, and refuses a file that is over a limit with
:class:`TooComplex` (a reason code) before anything expensive runs.

What it counts:

* signatures: ``/ByteRange`` entries in the raw bytes and signature fields in the field tree;
* revisions: cross-reference sections (one per incremental update);
* indirect objects: entries of all cross-reference sections;
* trees (form fields, every name tree under ``/Names``, the page tree): distinct nodes, depth,
  and the number of steps a walk that does not remember visited nodes would take (shared
  children multiply it); a cycle is refused at once;
* paths through the whole object graph, as pyHanko's change analysis maps them (objects that
  share children anywhere, not only in those trees).

The limits are plain values (:class:`Budget`); the CKAN layer reads them from its configuration.
No CKAN import here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits

MiB = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """Limits for verifying one untrusted PDF; 0 switches a count limit off."""

    max_signatures: int = 20
    max_revisions: int = 40
    max_objects: int = 20000
    max_tree_nodes: int = 5000  # per tree: steps of a naive walk (shared children count again)
    max_tree_depth: int = 32
    max_graph_paths: int = 50000  # paths from the trailer to every object (pyHanko's mapping)
    cpu_seconds: int = 5  # child process: CPU time (RLIMIT_CPU)
    memory_mb: int = 512  # child process: address space on top of what it starts with
    wall_seconds: float = 5.0  # child process: killed after this long

    def decode_limits(self) -> DecodeLimits:
        """Stream decoding limits for the verification reader: far below pyHanko's generic
        256 MiB per stream, so that a compression bomb ends as an error, not as memory use."""
        per_stream = max(8 * MiB, min(64 * MiB, self.memory_mb * MiB // 8))
        return DecodeLimits(
            per_stream=StreamDecodeLimits(max_output_size=per_stream),
            document_budget=DocumentDecodeBudget(base_allowance=4 * per_stream, max_ratio=20),
        )


class TooComplex(Exception):
    """The file is over a verification limit; ``reason`` is a code such as
    ``too_many_signatures``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


_BYTE_RANGE = re.compile(rb"/ByteRange\b")


def check_bytes(pdf_bytes: bytes, budget: Budget) -> None:
    """Raw counts, before parsing: signature dictionaries and end-of-file markers."""
    if budget.max_signatures and \
            len(_BYTE_RANGE.findall(pdf_bytes)) > budget.max_signatures:
        raise TooComplex("too_many_signatures")
    # every incremental update ends with its own %%EOF; a few spare ones are tolerated
    if budget.max_revisions and pdf_bytes.count(b"%%EOF") > 2 * budget.max_revisions:
        raise TooComplex("too_many_revisions")


def _ref(obj: Any) -> Any:
    return obj.reference if isinstance(obj, generic.IndirectObject) else None


def _deref(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, generic.IndirectObject) else obj


class _TreeWalk:
    """One bounded walk over a tree whose children are under ``/Kids``.

    Nodes are remembered (by object reference) with the number of steps a naive walk of their
    subtree takes, so a shared subtree is measured once but counted every time it is reached.
    """

    def __init__(self, budget: Budget, what: str) -> None:
        self.budget = budget
        self.what = what
        self.steps: dict[Any, int] = {}
        self.on_path: set[Any] = set()
        self.distinct = 0
        self.signature_fields = 0

    def _over(self, count: int) -> bool:
        return bool(self.budget.max_tree_nodes) and count > self.budget.max_tree_nodes

    def walk(self, node: Any, depth: int = 0, inherited_ft: Any = None) -> int:
        ref = _ref(node)
        if ref is not None:
            if ref in self.on_path:
                raise TooComplex("tree_cycle", self.what)
            if ref in self.steps:
                return self.steps[ref]
        if self.budget.max_tree_depth and depth > self.budget.max_tree_depth:
            raise TooComplex("tree_too_deep", self.what)
        self.distinct += 1
        if self._over(self.distinct):
            raise TooComplex("tree_too_large", self.what)
        obj = _deref(node)
        if not isinstance(obj, generic.DictionaryObject):
            return 1
        field_type = obj.get("/FT", inherited_ft)
        kids = _deref(obj.get("/Kids"))
        total = 1
        if isinstance(kids, generic.ArrayObject) and len(kids):
            if ref is not None:
                self.on_path.add(ref)
            try:
                for kid in kids:
                    total += self.walk(kid, depth + 1, field_type)
                    if self._over(total):
                        raise TooComplex("tree_shared_nodes", self.what)
            finally:
                self.on_path.discard(ref)
        elif field_type == "/Sig":
            self.signature_fields += 1
        if ref is not None:
            self.steps[ref] = total
        return total


def _walk_list(nodes: Any, budget: Budget, what: str) -> _TreeWalk:
    walker = _TreeWalk(budget, what)
    nodes = _deref(nodes)
    if isinstance(nodes, generic.ArrayObject):
        total = 0
        for node in nodes:
            total += walker.walk(node)
            if walker._over(total):
                raise TooComplex("tree_shared_nodes", what)
    elif nodes is not None:
        walker.walk(nodes)
    return walker


def check_root(root: Any, budget: Budget) -> int:
    """Walk the trees of one revision's document catalog; returns its signature fields."""
    root = _deref(root)
    if not isinstance(root, generic.DictionaryObject):
        return 0
    signature_fields = 0
    form = _deref(root.get("/AcroForm"))
    if isinstance(form, generic.DictionaryObject):
        signature_fields = _walk_list(form.get("/Fields"), budget, "fields").signature_fields
    names = _deref(root.get("/Names"))
    if isinstance(names, generic.DictionaryObject):
        for key in list(names.keys())[:32]:  # /EmbeddedFiles, /Dests, /JavaScript, ...
            _walk_list(names.raw_get(key), budget, f"names{key}")
    _walk_list(root.raw_get("/Pages") if "/Pages" in root else None, budget, "pages")
    return signature_fields


def object_count(reader: Any) -> int:
    """Entries of all cross-reference sections (objects in object streams included)."""
    total = 0
    xrefs = reader.xrefs
    for revision in range(xrefs.total_revisions):
        data = xrefs.get_xref_data(revision)
        total += len(data.standard_xrefs) + len(data.xrefs_in_objstm)
    return total


def check_reader(reader: Any, budget: Budget) -> None:
    """Counts and tree walks on a parsed (not yet validated) document, every revision."""
    revisions = reader.xrefs.total_revisions
    if budget.max_revisions and revisions > budget.max_revisions:
        raise TooComplex("too_many_revisions")
    if budget.max_objects and object_count(reader) > budget.max_objects:
        raise TooComplex("too_many_objects")
    # pyHanko's change analysis reads earlier revisions too, so each one is measured
    for revision in range(revisions):
        root = reader.root if revision == revisions - 1 else \
            reader.get_historical_root(revision)
        fields = check_root(root, budget)
        if budget.max_signatures and fields > budget.max_signatures:
            raise TooComplex("too_many_signatures")
    check_graph(reader, budget)


# --- paths through the whole object graph (pyHanko's change analysis) ---------------------------

_NO_CUT = 1 << 30
_CONTAINERS = (generic.IndirectObject, generic.DictionaryObject, generic.ArrayObject)


class _GraphPaths:
    """Count the paths pyHanko's change analysis records from the trailer to every object.

    For a signed file with later revisions, pyHanko maps every object to all the paths that
    lead to it (it stops only at an object already on the current path, skips ``/Parent``, and
    enters page-tree nodes and structure elements only along their own tree). Objects that
    refer twice to the next one, forty deep, make 2^40 paths: the file is tiny, the mapping
    never ends. Here the same count is computed with memoisation (a subtree whose walk was not
    cut by an object higher up has the same count wherever it is reached) and stops at the limit.
    """

    def __init__(self, limit: int, work_limit: int, pages: dict[Any, Any], struct: set[Any]):
        self.limit = limit
        self.work_limit = work_limit
        self.work = 0
        self.pages = pages  # page-tree node -> the object whose /Kids (or /Pages) holds it
        self.struct = struct
        self.memo: dict[tuple[Any, bool], int] = {}
        self.stack: dict[Any, int] = {}

    def _tick(self) -> None:
        self.work += 1
        if self.work > self.work_limit:
            raise TooComplex("too_many_paths")

    def value(self, value: Any, holder: Any, key: Any, in_struct: bool, depth: int
              ) -> tuple[int, int]:
        """(paths below ``value``, shallowest depth of an object that cut the walk)."""
        self._tick()
        if depth > 500:
            raise TooComplex("too_deep")
        if not isinstance(value, generic.IndirectObject):
            return self.container(value, holder, in_struct, depth)
        ref = value.reference
        if ref in self.stack:  # pyHanko stops here: the object is on the current path
            return 0, self.stack[ref]
        if ref in self.pages and not (key in ("/Kids", "/Pages") and self.pages[ref] == holder):
            return 1, _NO_CUT  # a page reached from elsewhere (/P, /Dest...) is not entered
        if ref in self.struct and not in_struct:
            return 1, _NO_CUT
        memo_key = (ref, in_struct)
        if memo_key in self.memo:
            return self.memo[memo_key], _NO_CUT
        self.stack[ref] = depth
        try:
            below, cut = self.container(value.get_object(), ref, in_struct, depth + 1)
        finally:
            del self.stack[ref]
        count = 1 + below
        if cut >= depth:  # not cut by anything above: the same count wherever it is reached
            self.memo[memo_key] = count
            cut = _NO_CUT
        return count, cut

    def container(self, obj: Any, holder: Any, in_struct: bool, depth: int) -> tuple[int, int]:
        total, cut = 0, _NO_CUT
        if isinstance(obj, generic.DictionaryObject):
            struct_root = obj.get("/Type") == "/StructTreeRoot"
            items: Any = ((k, v) for k, v in obj.items()
                          if k != "/Parent" and not (in_struct and k == "/P"))
        elif isinstance(obj, generic.ArrayObject):
            struct_root = False
            items = ((None, v) for v in obj)
        else:
            return 0, _NO_CUT
        for k, v in items:
            if not isinstance(v, _CONTAINERS):  # numbers, names, strings: nothing below
                continue
            below, c = self.value(v, holder, k, in_struct or (struct_root and k == "/K"),
                                  depth)
            total += below
            cut = min(cut, c)
            if total > self.limit:
                raise TooComplex("too_many_paths")
        return total, cut


def _page_nodes(root: Any) -> dict[Any, Any]:
    """Page-tree node reference -> the reference whose /Kids (or /Pages) holds it."""
    out: dict[Any, Any] = {}
    pages = root.raw_get("/Pages") if "/Pages" in root else None
    todo = []
    if isinstance(pages, generic.IndirectObject):
        out[pages.reference] = None
        todo.append(pages)
    while todo and len(out) < 100000:
        node = todo.pop()
        obj = _deref(node)
        if not isinstance(obj, generic.DictionaryObject) or obj.get("/Type") != "/Pages":
            continue
        for kid in _deref(obj.get("/Kids")) or []:
            if isinstance(kid, generic.IndirectObject) and kid.reference not in out:
                out[kid.reference] = node.reference
                todo.append(kid)
    return out


def _struct_nodes(root: Any) -> set[Any]:
    out: set[Any] = set()
    tree = _deref(root.get("/StructTreeRoot"))
    todo = [tree] if isinstance(tree, generic.DictionaryObject) else []
    while todo and len(out) < 100000:
        elem = todo.pop()
        kids = _deref(elem.get("/K")) if isinstance(elem, generic.DictionaryObject) else None
        kids = kids if isinstance(kids, generic.ArrayObject) else [kids] if kids is not None \
            else []
        for kid in kids:
            obj = _deref(kid)
            if not isinstance(obj, generic.DictionaryObject) or \
                    obj.get("/Type", "/StructElem") != "/StructElem":
                continue
            if isinstance(kid, generic.IndirectObject):
                if kid.reference in out:
                    continue
                out.add(kid.reference)
            todo.append(obj)
    return out


def check_graph(reader: Any, budget: Budget) -> int:
    """Count the paths of the latest revision's object graph; returns the count."""
    if not budget.max_graph_paths:
        return 0
    root_ref = reader.trailer.raw_get("/Root")
    root = _deref(root_ref)
    if not isinstance(root, generic.DictionaryObject):
        return 0
    pages = _page_nodes(root)
    first = root.raw_get("/Pages") if "/Pages" in root else None
    if isinstance(first, generic.IndirectObject):
        pages[first.reference] = root_ref.reference if isinstance(
            root_ref, generic.IndirectObject) else None
    counter = _GraphPaths(budget.max_graph_paths, 40 * budget.max_graph_paths, pages,
                          _struct_nodes(root))
    total, _cut = counter.container(reader.trailer_view, None, False, 0)
    return total
