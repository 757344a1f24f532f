"""The zip-directory check shared by fastrnn's own model files and Keras 3 ``.keras`` files.

Both are zip archives read from files a user may have been sent, so before any member is read
the directory alone must show that the archive costs what the file holds: no encrypted member,
no stored member larger than the file (a truncated or crafted file), and compressed members
that together inflate to at most ``MAX_INFLATED_BYTES`` (fastrnn writes its files stored and
Keras stores its weights uncompressed, so only a config or a crafted bomb is compressed).
"""

from __future__ import annotations

import os
import zipfile

__all__ = ["MAX_INFLATED_BYTES", "check_directory"]

MAX_INFLATED_BYTES = 64 << 20      # all compressed members together, once decompressed


def check_directory(path, zf, bad):
    """The archive's members by name; `bad(path, why)` builds the ValueError for a refusal."""
    file_size = os.path.getsize(path)
    inflated = 0
    members = {}
    for info in zf.infolist():
        if info.flag_bits & 0x1:
            raise bad(path, f"member {info.filename!r} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED:
            if (info.compress_size != info.file_size
                    or info.header_offset + info.compress_size > file_size):
                raise bad(path, f"member {info.filename!r} claims {info.file_size} bytes, more "
                                f"than the file ({file_size} bytes) holds (truncated?)")
        else:
            inflated += info.file_size
            if inflated > MAX_INFLATED_BYTES:
                raise bad(path, f"its compressed members would inflate to more than "
                                f"{MAX_INFLATED_BYTES >> 20} MiB (member {info.filename!r} "
                                f"alone to {info.file_size} bytes, from {info.compress_size})")
        members[info.filename] = info
    return members
