"""HTTP/1.1 by hand, for requests no client library sends: header values that are not UTF-8, heads that never end,
bodies that stop half-way, bodies held while others are answered."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self, timeout: float = 10.0) -> Answer:
        """The next response (fails the test when none comes within `timeout` seconds)."""
        return await asyncio.wait_for(read_answer(self.reader), timeout)

    async def closed_by_server(self, timeout: float = 10.0) -> bool:
        """Whether the server closes the connection within `timeout` seconds (what it sends meanwhile is read)."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), timeout):
                pass
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return True

    def close(self) -> None:
        self.writer.close()


async def connect(port: int, host: str = "127.0.0.1", source: str | None = None) -> Connection:
    """A connection to `host:port`, from the local address `source` (e.g. 127.0.0.2: another client) if given."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0) if source else None)
    return Connection(reader, writer)


def head(method: str, path: str, headers: list[tuple[str, bytes | str]]) -> bytes:
    """A request head; values may be any bytes (str values are sent as UTF-8)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    for name, value in headers:
        lines.append(name.encode() + b": " + (value.encode() if isinstance(value, str) else value))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def post(path: str, headers: list[tuple[str, bytes | str]], body: bytes) -> bytes:
    return head("POST", path, [*headers, ("Content-Length", str(len(body)))]) + body


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection without answering")
    status = int(status_line.split(b" ", 2)[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Answer(status, headers, body)


async def exchange(port: int, request: bytes, timeout: float = 10.0) -> Answer:
    """One request on a connection of its own, and its answer."""
    connection = await connect(port)
    try:
        await connection.send(request)
        return await connection.answer(timeout)
    finally:
        connection.close()
