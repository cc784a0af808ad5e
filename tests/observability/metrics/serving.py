"""The app served by a real uvicorn on loopback, in a thread of the test's process, so
its metrics are read from the default registry the test sees."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from gql.app import create_app
from gql.server import _options
from gql.settings import Settings


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The base URL (http://127.0.0.1:port) of the app running with ``settings``, with the
    server's own uvicorn options, lifespan included."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_app(settings), **{**_options(settings), "port": port})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "the server to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
