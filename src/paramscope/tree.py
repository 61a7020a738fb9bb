"""Component tree: classified tensors -> nested modules with counts, repeated layers collapsed.

Counts are unique parameters (a tied alias adds nothing); buffers hang on their module but count zero.
A node's formula is the sum of its tensors' symbolic shapes, so formula and count cannot disagree.
The encoder of bert-base has one child, the run ``layer ×12`` (7,087,872 parameters each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .families.base import Family, Group, Placement
from .inventory import Inventory, Kind, Tensor
from .symbolic import Formula, Poly, Term

GROUP_ORDER = (Group.VISION, Group.AUDIO, Group.PROJECTOR, Group.EMBEDDINGS, Group.ENCODER, Group.DECODER,
               Group.FINAL_NORM, Group.POOLER, Group.HEADS, Group.UNCLASSIFIED)


@dataclass(slots=True)
class Node:
    name: str
    path: tuple[str, ...]
    children: list["Node"] = field(default_factory=list)
    tensors: list[Tensor] = field(default_factory=list)
    repeat: int = 1  # a run of identical numbered blocks shown once
    first: int | None = None  # index of the first block of the run
    times: Poly | None = None  # how many blocks, as a formula: L, or L - 1 beside a different first block
    note: str = ""  # e.g. "shared: used by all 12 layers"

    @property
    def numel(self) -> int:
        """Unique parameters in this subtree, every repeat included."""
        own = sum(t.numel for t in self.tensors if t.kind == Kind.PARAMETER)
        return self.repeat * (own + sum(c.numel for c in self.children))

    @property
    def numel_each(self) -> int:
        return self.numel // self.repeat if self.repeat else 0

    def walk(self, depth: int = 0) -> Iterable[tuple[int, "Node"]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def all_tensors(self) -> list[Tensor]:
        out = list(self.tensors)
        for c in self.children:
            out += c.all_tensors()
        return out

    def poly(self) -> Poly | None:
        """Parameters of one copy of this node as a polynomial; None without symbolic shapes."""
        exprs = [t.numel_expr for t in self.tensors if t.kind == Kind.PARAMETER]
        if any(e is None for e in exprs):
            return None
        parts = [e for e in exprs if e is not None]
        for c in self.children:
            f = c.formula()
            if f is None:
                return None
            parts.append(f.expand())
        return Poly.sum(parts)

    def poly_each(self) -> Poly | None:
        """One block of a run, as a polynomial."""
        return Node(self.name, self.path, self.children, self.tensors).poly()

    def formula(self) -> Formula | None:
        """As people write it: a full run of layers stays ``L·(...)``, the rest is one sum."""
        if self.repeat > 1 or self.times is not None:
            body = self.poly_each()
            if body is None:
                return None
            if self.times is not None:
                return Formula((Term(body, self.times),))
            return Formula((Term(body * self.repeat),))
        exprs = [t.numel_expr for t in self.tensors if t.kind == Kind.PARAMETER]
        if any(e is None for e in exprs):
            return None
        terms: list[Term] = []
        plain = Poly.sum(e for e in exprs if e is not None)
        for c in self.children:
            f = c.formula()
            if f is None:
                return None
            for term in f.terms:
                if term.multiplier is not None:
                    terms.append(term)
                else:
                    plain = plain + term.body
        return Formula(tuple(terms) + ((Term(plain),) if plain.terms or not terms else ()))


def leaves(node: Node, prefix: str = "") -> Iterable[tuple[str, Node]]:
    """Modules that own tensors, with their path below ``node``: ``attention.self.query``, ..."""
    here = f"{prefix}.{node.name}" if prefix else node.name
    if node.tensors:
        yield here, node
    for c in node.children:
        yield from leaves(c, here)


def own_poly(node: Node) -> Poly | None:
    """The node's own parameters (not its children's) as a polynomial, for one copy."""
    exprs = [t.numel_expr for t in node.tensors if t.kind == Kind.PARAMETER]
    if any(e is None for e in exprs):
        return None
    return Poly.sum(e for e in exprs if e is not None)


class _Signatures:
    """Block signatures for one build, each computed once and kept as a small int: equal structures get
    the same number (the tuples are interned), so comparing blocks is comparing ints and a layer's
    signature does not hold copies of its experts'. DeepSeek-V3 has 62,000 nodes and a few hundred
    distinct signatures."""

    def __init__(self) -> None:
        self.numbers: dict[tuple, int] = {}
        self.by_node: dict[int, int] = {}  # id(node) -> number; every node outlives the build

    def of(self, node: Node) -> int:
        found = self.by_node.get(id(node))
        if found is not None:
            return found
        numbers = self.numbers
        entries = []
        for t in node.tensors:
            entry = (_leaf(t.name), t.shape, t.dtype, t.kind)
            entries.append(numbers.setdefault(entry, len(numbers)))
        key = (node.repeat, tuple(entries), tuple((c.name, self.of(c)) for c in node.children))
        number = self.by_node[id(node)] = numbers.setdefault(key, len(numbers))
        return number


def _leaf(name: str) -> str:
    """The last part of a dotted (or TF ``/``) name: ``weight``."""
    return name[max(name.rfind("."), name.rfind("/")) + 1:]


def build(inventory: Inventory, family: Family, placements: Mapping[str, Placement]) -> Node:
    """Root -> groups -> module paths; numbered blocks under ``family.repeats`` collapsed into runs.

    Linear in the number of tensors: each node keeps its children by name while the tree is built, and
    each block's signature is computed once when runs are collapsed.
    """
    root = Node("model", ())
    groups: dict[Group, Node] = {}
    # (group, module path) -> its node: one dict lookup per tensor, not a scan of each level's children.
    nodes: dict[tuple[Group, tuple[str, ...]], Node] = {}
    skip = (Kind.OPTIMIZER_STATE, Kind.OTHER)  # set aside: not part of the model's structure
    for t in inventory.tensors:
        if t.kind in skip:
            continue
        place = placements[t.name]
        node = nodes.get((place.group, place.path))
        if node is None:
            node = _node_at(nodes, groups, place.group, place.path)
        node.tensors.append(t)
    del nodes
    root.children = [groups[g] for g in GROUP_ORDER if g in groups]
    values = family.values(inventory.config) if inventory.config else {}
    # A container of numbered blocks (encoder.layer) is replaced by its runs: "layer ×12" sits directly
    # under the encoder.
    signatures = _Signatures()
    default = family.repeats.get("*")
    for node in _preorder(root):
        spliced: list[Node] = []
        for c in node.children:
            symbol = family.repeats.get(".".join(c.path), default)
            if symbol is not None and c.children and not c.tensors and all(b.name.isdigit() for b in c.children):
                blocks = sorted(c.children, key=lambda b: int(b.name))
                spliced += _collapse(blocks, symbol, values.get(symbol), signatures)
            else:
                spliced.append(c)
        node.children = spliced
    del signatures
    for group in root.children:
        group.children = [_merge_chain(c) for c in group.children]
    notes = family.tree_notes(inventory.config) if inventory.config else {}
    if notes:
        for _, node in root.walk():
            key = ".".join(node.path)
            if key in notes:
                node.note = notes[key]
    return root


def _node_at(
    nodes: dict[tuple[Group, tuple[str, ...]], Node], groups: dict[Group, Node], group: Group, path: tuple[str, ...]
) -> Node:
    """The node of a module path, created with its parents as needed; children in order of first use."""
    key = (group, path)
    node = nodes.get(key)
    if node is None:
        if path:
            parent = _node_at(nodes, groups, group, path[:-1])
            node = Node(path[-1], parent.path + (path[-1],))
            parent.children.append(node)
        else:
            node = groups[group] = Node(str(group), (str(group),))
        nodes[key] = node
    return node


def _preorder(root: Node) -> list[Node]:
    """Every node, parents before children, in the order of :meth:`Node.walk` (without generators)."""
    out: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def _collapse(blocks: list[Node], symbol: str, count: int | None, signatures: _Signatures | None = None) -> list[Node]:
    """Consecutive blocks with the same signature become one run (``layer ×12``)."""
    signatures = signatures or _Signatures()
    runs: list[Node] = []
    last_signature = None
    for block in blocks:
        signature = signatures.of(block)
        if runs and signature == last_signature:
            runs[-1].repeat += 1
            continue
        runs.append(Node(block.name, block.path, block.children, block.tensors, 1, int(block.name)))
        last_signature = signature
    if symbol and count is not None and sum(r.repeat for r in runs) == count:
        # The longest run is counted by the symbol: L when it is every block, L - 1 beside one that
        # differs (T5's first block carries the relative attention bias).
        longest = max(runs, key=lambda r: r.repeat)
        if longest.repeat > 1 or len(runs) == 1:
            longest.times = Poly.sym(symbol) - (count - longest.repeat)
    return runs


def _merge_chain(node: Node) -> Node:
    """``intermediate`` -> ``dense`` becomes one row ``intermediate.dense``."""
    node.children = [_merge_chain(c) for c in node.children]
    if len(node.children) == 1 and not node.tensors and node.repeat == 1 and node.first is None:
        child = node.children[0]
        if child.repeat == 1 and child.first is None:
            return Node(f"{node.name}.{child.name}", child.path, child.children, child.tensors)
    return node


def label(node: Node) -> str:
    """``layer ×12`` for a full run, ``layer 3-5 ×3`` for a partial one, else the module name."""
    if node.first is None:
        return node.name
    base = node.path[-2] if len(node.path) >= 2 else "block"
    if node.times is not None and len(node.times.terms) == 1 and node.times.terms[0][1] == 1:
        return f"{base} ×{node.repeat}"  # every block: times is the bare symbol
    if node.repeat == 1:
        return f"{base} {node.first}"
    return f"{base} {node.first}-{node.first + node.repeat - 1} ×{node.repeat}"
