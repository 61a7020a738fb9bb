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

    Linear in the number of tensors, and built once per distinct block: the tensors are split by path
    segment level by level, and of a run of numbered blocks with the same contents (DeepSeek-V3's 58 MoE
    layers of 256 experts each) only the first is built into nodes; the others are compared by a flat
    signature of their tensors and counted.
    """
    root = Node("model", ())
    skip = (Kind.OPTIMIZER_STATE, Kind.OTHER)  # set aside: not part of the model's structure
    by_group: dict[Group, list[tuple[tuple[str, ...], Tensor]]] = {}
    for t in inventory.tensors:
        if t.kind in skip:
            continue
        place = placements[t.name]
        items = by_group.get(place.group)
        if items is None:
            items = by_group[place.group] = []
        items.append((place.path, t))
    values = family.values(inventory.config) if inventory.config else {}
    builder = _Builder(family.repeats, values)
    groups = {g: Node(str(g), (str(g),)) for g in by_group}
    # Groups are the root's children: a group of numbered blocks alone is collapsed like any container.
    root.children = builder.splice(
        [(groups[g], by_group[g]) for g in GROUP_ORDER if g in groups], 0)
    for group in root.children:
        group.children = [_merge_chain(c) for c in group.children]
    notes = family.tree_notes(inventory.config) if inventory.config else {}
    if notes:
        for _, node in root.walk():
            key = ".".join(node.path)
            if key in notes:
                node.note = notes[key]
    return root


_Items = list[tuple[tuple[str, ...], Tensor]]  # (module path below the group, tensor), in inventory order


class _Builder:
    """Nodes from (path, tensor) items; a container of numbered blocks (``encoder.layer``) is replaced by
    its runs: ``layer ×12`` sits directly under the encoder."""

    def __init__(self, repeats: Mapping[str, str], values: Mapping[str, int]) -> None:
        self.repeats, self.default, self.values = repeats, repeats.get("*"), values
        self.signatures = _Signatures()
        self.kept: list[Node] = []

    def fill(self, node: Node, items: _Items, depth: int, collapse: bool = True) -> Node:
        """``node``'s own tensors and its children (items whose paths go deeper than ``depth``), in order of
        first use. With ``collapse`` False (the node is the first block of a run) containers directly under
        it are kept as they are, as the node-by-node build always did."""
        children: dict[str, _Items] = {}
        own = node.tensors
        for item in items:
            path = item[0]
            if len(path) == depth:
                own.append(item[1])
                continue
            below = children.get(path[depth])
            if below is None:
                children[path[depth]] = [item]
            else:
                below.append(item)
        pairs = [(Node(name, node.path + (name,)), below) for name, below in children.items()]
        if collapse:
            node.children = self.splice(pairs, depth + 1)
        else:
            node.children = [self.fill(child, below, depth + 1) for child, below in pairs]
        return node

    def splice(self, pairs: list[tuple[Node, _Items]], depth: int) -> list[Node]:
        """Children (not yet filled, their items at ``depth``) -> nodes, containers replaced by their runs."""
        out: list[Node] = []
        for child, items in pairs:
            blocks = self._blocks(child, items, depth)
            if blocks is None:
                out.append(self.fill(child, items, depth))
            else:
                out += self._runs(child, blocks, depth + 1)
        return out

    def _blocks(self, node: Node, items: _Items, depth: int) -> list[tuple[str, _Items]] | None:
        """The numbered blocks of a container, sorted by number; None if ``node`` is not a container."""
        if self.repeats.get(".".join(node.path), self.default) is None:
            return None
        blocks: dict[str, _Items] = {}
        for item in items:
            path = item[0]
            if len(path) == depth or not path[depth].isdigit():
                return None  # a tensor of its own, or a child that is not a numbered block
            below = blocks.get(path[depth])
            if below is None:
                blocks[path[depth]] = [item]
            else:
                below.append(item)
        if not blocks:
            return None
        return sorted(blocks.items(), key=lambda b: int(b[0]))

    def _runs(self, container: Node, blocks: list[tuple[str, _Items]], depth: int) -> list[Node]:
        """Consecutive blocks (their items' paths hold the block's number at ``depth - 1``) with the same
        contents -> one run each, only its first block built.

        Blocks whose tensors (path below the block, leaf name, shape, dtype, kind) are the same in the same
        order are the same; blocks that differ so are compared by the signatures of their node trees, which
        do not see the order of tensors in different modules."""
        runs: list[Node] = []
        prev_flat: tuple | None = None
        prev_exact: int | None = None
        prev: tuple[str, _Items] = ("", [])
        for name, items in blocks:
            flat = tuple((p[depth:], _leaf(t.name), t.shape, t.dtype, t.kind) for p, t in items)
            if runs and flat == prev_flat:
                same = True
            elif runs:
                if prev_exact is None:
                    prev_exact = self._exact(container, *prev, depth)
                exact = self._exact(container, name, items, depth)
                same, prev_exact = exact == prev_exact, exact
            else:
                same = False
            prev_flat, prev = flat, (name, items)
            if same:
                runs[-1].repeat += 1
                continue
            block = self.fill(Node(name, container.path + (name,)), items, depth, collapse=False)
            runs.append(Node(name, block.path, block.children, block.tensors, 1, int(name)))
        symbol = self.repeats.get(".".join(container.path), self.default)
        count = self.values.get(symbol) if symbol is not None else None
        if symbol and count is not None and sum(r.repeat for r in runs) == count:
            # The longest run is counted by the symbol: L when it is every block, L - 1 beside one that
            # differs (T5's first block carries the relative attention bias).
            longest = max(runs, key=lambda r: r.repeat)
            if longest.repeat > 1 or len(runs) == 1:
                longest.times = Poly.sym(symbol) - (count - longest.repeat)
        return runs

    def _exact(self, container: Node, name: str, items: _Items, depth: int) -> int:
        """The signature of one block's node tree, built without collapsing anything."""
        block = _raw(Node(name, container.path + (name,)), items, depth)
        self.kept.append(block)  # signatures are kept by id(node): the node must outlive the build
        return self.signatures.of(block)


def _raw(node: Node, items: _Items, depth: int) -> Node:
    children: dict[str, _Items] = {}
    for item in items:
        path = item[0]
        if len(path) == depth:
            node.tensors.append(item[1])
        else:
            children.setdefault(path[depth], []).append(item)
    node.children = [_raw(Node(name, node.path + (name,)), below, depth + 1) for name, below in children.items()]
    return node


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
