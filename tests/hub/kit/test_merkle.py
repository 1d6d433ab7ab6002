"""The Merkle tree of batch receipts: every leaf's proof leads to the root, and to no other."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from hub.kit import merkle

leaf_sets = st.lists(st.binary(max_size=8), min_size=1, max_size=40)


@given(leaf_sets)
def test_every_leaf_proves_its_inclusion(data: list[bytes]) -> None:
    leaves = [merkle.leaf_hash(d) for d in data]
    tree = merkle.levels(leaves)
    root = tree[-1][0]
    for index, leaf in enumerate(leaves):
        path = merkle.proof(tree, index)
        assert len(path) <= max(1, len(leaves)).bit_length()
        assert merkle.root_from(leaf, path) == root


@given(leaf_sets, st.data())
def test_a_changed_leaf_or_sibling_leads_elsewhere(data: list[bytes], draw: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(d) for d in data]
    tree = merkle.levels(leaves)
    index = draw.draw(st.integers(0, len(leaves) - 1))
    path = merkle.proof(tree, index)
    assert merkle.root_from(merkle.leaf_hash(data[index] + b"x"), path) != tree[-1][0]
    if path and path[0][1] != leaves[index]:  # swapping equal hashes changes nothing
        side, sibling = path[0]
        flipped = [(merkle.LEFT if side == merkle.RIGHT else merkle.RIGHT, sibling), *path[1:]]
        assert merkle.root_from(leaves[index], flipped) != tree[-1][0]


def test_one_leaf_is_its_own_root_and_a_pair_hashes_with_a_node_prefix() -> None:
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.levels([a])[-1] == [a]
    assert merkle.levels([a, b])[-1] == [hashlib.sha256(b"\x01" + a + b).digest()]
    assert a == hashlib.sha256(b"\x00a").digest()  # a leaf can never pass for a node
