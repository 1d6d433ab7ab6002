"""Random ids drawn from a buffer of the operating system's random bytes (``hub.kit.ids``)."""

from __future__ import annotations

import os
import uuid

from hub.kit import ids


def test_ids_are_version_4_uuids_all_different_across_reads_of_the_buffer() -> None:
    made = [ids.new_uuid() for _ in range(3 * ids._READ // 16 + 5)]  # past three reads
    assert len(set(made)) == len(made)
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in made)


def test_a_forked_child_never_takes_the_ids_left_to_its_parent() -> None:
    ids.new_uuid()  # the buffer holds ids not yet taken
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(write, ids.new_uuid().bytes)
        os._exit(0)
    os.close(write)
    taken_by_child = os.read(read, 16)
    os.close(read)
    os.waitpid(child, 0)
    assert uuid.UUID(bytes=taken_by_child) != ids.new_uuid()
