"""Messages on a Unix socket between the grader and the processes it keeps warm (``course_tools.autograde.warm``):
a JSON object after its length, and file descriptors along with it. Plain Python: the grader's process, the judge
and the worker's template all use it.
"""

import json
import os
import socket
import struct


def send(channel: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    """``message`` as JSON on a Unix socket, after its length, which carries ``fds`` (file descriptors) along."""
    data = json.dumps(message).encode()
    header = struct.pack("!Q", len(data))
    if fds:
        socket.send_fds(channel, [header], list(fds))
    else:
        channel.sendall(header)
    channel.sendall(data)


def receive(channel: socket.socket, limit: int, fds: int = 0) -> tuple[dict, list[int]]:
    """A message ``send`` sent, and the file descriptors that came with it; EOFError at the end of the stream,
    ValueError for one longer than ``limit`` bytes or not a JSON object."""
    header, received, _, _ = socket.recv_fds(channel, 8, fds) if fds else (channel.recv(8), [], 0, None)
    try:
        size = struct.unpack("!Q", header + _exactly(channel, 8 - len(header)))[0]
        if size > limit:
            raise ValueError(f"a message of {size} bytes, over the limit of {limit}")
        message = json.loads(_exactly(channel, size))
        if not isinstance(message, dict):
            raise ValueError("a message that is not a JSON object")
    except BaseException:
        for fd in received:
            os.close(fd)
        raise
    return message, received


def _exactly(channel: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = channel.recv(min(left, 2**20))
        if not chunk:
            raise EOFError("the other end closed the socket")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
