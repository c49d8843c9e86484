"""A connection's send buffer: bounded, in order, and coalescing for state streams."""

from __future__ import annotations


class Outbox:
    """Text frames waiting to be written to one socket, oldest first.

    A frame put with a `coalesce_key` (one per subscription of a state stream) replaces an
    unsent frame with the same key, in its place: a reader that is behind gets the newest state,
    not every state in between, and the final one is never dropped. Other frames (events,
    protocol messages) are each kept. `put` refuses a frame once `limit` frames are waiting: the
    connection is then closed, so a reader that stays behind cannot make the server's memory
    grow.
    """

    __slots__ = ("_frames", "_limit", "_seq")

    def __init__(self, limit: int) -> None:
        self._frames: dict[object, str] = {}  # insertion-ordered: the send order
        self._limit = limit
        self._seq = 0

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: str, coalesce_key: str | None = None) -> bool:
        """False when the buffer is full (the frame is not kept)."""
        if coalesce_key is not None and coalesce_key in self._frames:
            self._frames[coalesce_key] = frame
            return True
        if len(self._frames) >= self._limit:
            return False
        if coalesce_key is None:
            self._seq += 1
            key: object = self._seq
        else:
            key = coalesce_key
        self._frames[key] = frame
        return True

    def clear(self) -> None:
        self._frames.clear()

    def pop(self) -> str | None:
        """The oldest waiting frame, or None."""
        if not self._frames:
            return None
        return self._frames.pop(next(iter(self._frames)))
