"""Exact disclosure audit and secondary cell suppression over linear relations (SPEC §6).

A table's counts are tied together by linear relations (a row's parts sum to its total, ``ALL``
is the sum of its boroughs, and so on). Once some cells are hidden, a reader who knows the shown
cells can substitute them into every relation and solve for the hidden ones. A hidden cell is
*exposed* when that system fixes it uniquely: its unit vector lies in the row space of the
relation matrix restricted to the hidden columns. This is the test Statistics Norway's
GaussSuppression and sdcTable's ``attack`` make.

The audit is exact: rows are reduced to reduced row echelon form over the rationals (plain
integers, and ``fractions.Fraction`` only where a division is not exact; sparse rows as dicts),
one connected component of hidden cells at a time so each system stays small. ``protect``
then hides further cells, cheapest first, until no hidden cell is exposed. Everything here is
pure and deterministic: cells are identified by their
position in a caller-given stable order, and every choice breaks ties by that order.

Some cells are known to every reader whatever is shown: a count the rules fix (a borough that
could not divert has 0 diverted). ``protect`` takes them as ``known``: they are substituted
like shown cells, so they are never hidden and never chosen as cover.
"""

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

Number = int | Fraction
Row = dict[int, Number]


@dataclass(frozen=True)
class Reduced:
    """A component's relations in reduced row echelon form over its hidden cells.

    ``pivots`` maps a hidden cell to its row (pivot coefficient 1, no other pivot column);
    ``shown_only`` lists the rows left with no hidden cell, which fix their shown cells.
    """

    pivots: dict[int, Row]
    shown_only: list[Row]


@dataclass(frozen=True)
class Protection(Generic[K]):
    """The result of ``protect``: every hidden cell, the secondary ones, and any left exposed."""

    hidden: frozenset[K]
    secondary: frozenset[K]
    exposed: frozenset[K]


class _System:
    """Relations indexed by cell, with cells numbered in their stable order."""

    def __init__(self, relations: Sequence[Mapping[int, int]]) -> None:
        self.relations = [dict(r) for r in relations if any(r.values())]
        self.by_cell: dict[int, list[int]] = {}
        for number, relation in enumerate(self.relations):
            for cell in relation:
                self.by_cell.setdefault(cell, []).append(number)

    def component(self, seed: int, hidden: set[int]) -> set[int]:
        """Return the hidden cells linked to ``seed`` through relations with hidden cells."""
        found, todo = {seed}, [seed]
        while todo:
            cell = todo.pop()
            for number in self.by_cell.get(cell, ()):
                for other in self.relations[number]:
                    if other in hidden and other not in found:
                        found.add(other)
                        todo.append(other)
        return found

    def touching(self, cells: set[int]) -> list[int]:
        """Return the numbers of the relations that name any of ``cells``, in order."""
        return sorted({n for cell in cells for n in self.by_cell.get(cell, ())})


def _subtract(row: Row, other: Row, factor: Number) -> None:
    for cell, coefficient in other.items():
        value = row.get(cell, 0) - factor * coefficient
        if value:
            row[cell] = value
        else:
            row.pop(cell, None)


def _divide(value: Number, by: Number) -> Number:
    # Stay with plain integers while the division is exact: most pivots are 1 or -1, and
    # integer arithmetic is many times faster than Fraction.
    if isinstance(value, int) and isinstance(by, int) and value % by == 0:
        return value // by
    return Fraction(value) / by


def _pivot(row: Row, hidden: set[int]) -> int | None:
    """Choose the hidden cell to pivot on: a unit coefficient if any, then the first cell."""
    unknowns = sorted(c for c in row if c in hidden)
    if not unknowns:
        return None
    return next((c for c in unknowns if row[c] in (1, -1)), unknowns[0])


def reduce(rows: Sequence[Mapping[int, int]], hidden: set[int]) -> Reduced:
    """Put ``rows`` in reduced row echelon form, pivoting only on hidden cells.

    Any choice of pivots gives the same answer to "is this cell fixed?": a pivot cell is fixed
    exactly when its row has no other hidden cell.
    """
    pivots: dict[int, Row] = {}
    shown_only: list[Row] = []
    for source in rows:
        row: Row = {cell: c for cell, c in source.items() if c}
        for cell in [c for c in row if c in pivots]:
            _subtract(row, pivots[cell], row[cell])
        pivot = _pivot(row, hidden)
        if pivot is None:
            if row:
                shown_only.append(row)
            continue
        scale = row[pivot]
        row = {cell: _divide(value, scale) for cell, value in row.items()}
        for other in pivots.values():
            if pivot in other:
                _subtract(other, row, other[pivot])
        pivots[pivot] = row
    return Reduced(pivots=pivots, shown_only=shown_only)


def exposed_in(reduced: Reduced, hidden: set[int]) -> list[int]:
    """Return the hidden cells the reduced system fixes uniquely, in stable order."""
    return sorted(
        pivot
        for pivot, row in reduced.pivots.items()
        if not any(c in hidden and c != pivot for c in row)
    )


def _exposed_component(
    system: _System, component: set[int], hidden: set[int]
) -> tuple[list[int], Reduced]:
    rows = [system.relations[n] for n in system.touching(component)]
    reduced = reduce(rows, hidden)
    return exposed_in(reduced, hidden), reduced


def audit(relations: Sequence[Mapping[int, int]], hidden: set[int]) -> list[int]:
    """Return every hidden cell that the relations and the shown cells fix exactly."""
    system = _System(relations)
    exposed: list[int] = []
    seen: set[int] = set()
    for seed in sorted(hidden):
        if seed in seen:
            continue
        component = system.component(seed, hidden)
        seen |= component
        exposed += _exposed_component(system, component, hidden)[0]
    return sorted(exposed)


def _choose(
    system: _System, reduced: Reduced, cell: int, hidden: set[int], costs: Sequence[int]
) -> int | None:
    """Pick the shown cell to hide so ``cell`` is no longer fixed, cheapest first.

    A candidate is a shown cell in the row that fixes ``cell``. One that no relation of shown
    cells alone would then fix is preferred, since hiding it is enough on its own; otherwise the
    cheapest is hidden and the next round protects it in turn.
    """
    candidates = [c for c in reduced.pivots[cell] if c not in hidden]
    if not candidates:
        return None
    pinned = {c for row in reduced.shown_only for c in row}
    for c in candidates:
        if any(not (system.relations[n].keys() & hidden) for n in system.by_cell.get(c, ())):
            pinned.add(c)
    return min(candidates, key=lambda c: (c in pinned, costs[c], c))


def _extras(
    system: _System,
    reduced: Reduced,
    exposed: list[int],
    hidden: set[int],
    costs: Sequence[int],
    stuck: set[int],
) -> list[int]:
    """Choose one round of cells to hide: one for each exposed cell not already seen to.

    A cell whose fixing row names a cell chosen this round is left for the next audit, which
    usually finds it protected; choosing in rounds saves reducing a large component once per
    added cell.
    """
    chosen: list[int] = []
    for cell in exposed:
        if any(c in reduced.pivots[cell] for c in chosen):
            continue
        extra = _choose(system, reduced, cell, hidden | set(chosen), costs)
        if extra is None:
            stuck.add(cell)
        else:
            chosen.append(extra)
    return chosen


def protect_numbered(
    *, costs: Sequence[int], primary: set[int], relations: Sequence[Mapping[int, int]]
) -> tuple[set[int], set[int]]:
    """Hide cells beyond ``primary`` until none is exposed; return (hidden, left exposed).

    Cells are numbered 0..len(costs)-1 in their stable order. Each round audits one component
    of hidden cells and, if cells in it are exposed, hides a round of further cells; hiding
    only ever grows, so the loop ends. A cell is left exposed only if no shown cell could
    protect it.
    """
    system = _System(relations)
    hidden = set(primary)
    stuck: set[int] = set()
    clean: set[int] = set()
    pending = sorted(hidden, reverse=True)
    while pending:
        seed = pending.pop()
        if seed in clean:
            continue
        component = system.component(seed, hidden)
        exposed, reduced = _exposed_component(system, component, hidden)
        exposed = [c for c in exposed if c not in stuck]
        if not exposed:
            clean |= component
            continue
        for extra in _extras(system, reduced, exposed, hidden, costs, stuck):
            hidden.add(extra)
            clean -= system.component(extra, hidden)
        pending.append(seed)
    return hidden, set(audit(relations, hidden))


def _fixed_by(known: Collection[K], relations: Sequence[Mapping[K, int]]) -> set[K]:
    """Return ``known`` and every cell a relation then fixes alone (``ALL`` of known parts)."""
    public = set(known)
    changed = bool(public)
    while changed:
        changed = False
        for relation in relations:
            rest = [k for k, c in relation.items() if c and k not in public]
            if len(rest) == 1:
                public.add(rest[0])
                changed = True
    return public


def protect(
    *,
    order: Sequence[K],
    values: Mapping[K, int],
    primary: set[K],
    relations: Sequence[Mapping[K, int]],
    known: Collection[K] = (),
) -> Protection[K]:
    """Choose the secondary cells for ``primary`` over ``relations``; see ``protect_numbered``.

    ``order`` lists every cell once, in the stable order that breaks ties; a cell's cost is its
    value, so the smallest cells are hidden first. ``known`` cells are public whatever is shown
    (fixed by the rules), and so is a cell a relation fixes from known cells alone: they drop out
    of every relation, as shown cells do once substituted, so none is hidden or used as cover,
    and the audit counts them as known.
    """
    public = _fixed_by(known, relations)
    number = {key: i for i, key in enumerate(order)}
    hidden, exposed = protect_numbered(
        costs=[values[key] for key in order],
        primary={number[k] for k in primary if k not in public},
        relations=[{number[k]: c for k, c in r.items() if k not in public} for r in relations],
    )
    keys = {number[k]: k for k in order}
    return Protection(
        hidden=frozenset(keys[i] for i in hidden),
        secondary=frozenset(keys[i] for i in hidden) - frozenset(primary),
        exposed=frozenset(keys[i] for i in exposed),
    )
