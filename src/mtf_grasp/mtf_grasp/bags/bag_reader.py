"""Read a rosbag2 (MCAP or sqlite3) as raw CDR messages in time order, for replay and tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtf_grasp.bags.typestore import project_typestore
from mtf_grasp.errors import InputError


@dataclass(frozen=True)
class BagMessage:
    topic: str              # as recorded, absolute
    msgtype: str            # e.g. 'sensor_msgs/msg/Image'
    timestamp_ns: int       # receive/record time
    data: bytes             # CDR, publishable as is


def read_bag(path: str | Path) -> list[BagMessage]:
    """Every message of the bag, oldest first (held in memory: replay must not stall on disk)."""
    from rosbags.rosbag2 import Reader, ReaderError

    path = Path(path)
    if not (path / 'metadata.yaml').is_file():
        raise InputError(f'{path}: not a rosbag2 directory (no metadata.yaml)')
    try:
        with Reader(path) as reader:
            messages = [BagMessage(topic=c.topic, msgtype=c.msgtype, timestamp_ns=t, data=bytes(raw))
                        for c, t, raw in reader.messages()]
    except ReaderError as exc:
        raise InputError(f'{path}: unreadable bag ({exc})') from None
    messages.sort(key=lambda m: m.timestamp_ns)
    return messages


def decode(message: BagMessage) -> Any:
    """The rosbags dataclass of a raw message (for inspection and tests)."""
    return project_typestore().deserialize_cdr(message.data, message.msgtype)
