"""A Merkle tree over SHA-256 leaf hashes (RFC 6962's domain separation: 0x00 before a leaf, 0x01
before a pair of nodes), so one signature over the root vouches for every leaf, and an inclusion
proof of a few hashes shows that one leaf is in it. A lone node at the end of a level is carried up
unchanged. Pure: no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEFT = "left"  # the sibling is on the left: hash(sibling + node)
RIGHT = "right"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, root last."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    tree = [list(leaves)]
    while len(tree[-1]) > 1:
        below = tree[-1]
        above = [_node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        tree.append(above)
    return tree


def proof(tree: list[list[bytes]], index: int) -> list[tuple[str, bytes]]:
    """The siblings from leaf ``index`` up to the root, each with its side."""
    path: list[tuple[str, bytes]] = []
    for level in tree[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append((LEFT if sibling < index else RIGHT, level[sibling]))
        index //= 2
    return path


def root_from(leaf: bytes, path: Sequence[tuple[str, bytes]]) -> bytes:
    """The root that ``leaf`` and its proof lead to."""
    node = leaf
    for side, sibling in path:
        node = _node(sibling, node) if side == LEFT else _node(node, sibling)
    return node
