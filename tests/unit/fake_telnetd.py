"""A fake telnet daemon for link and device tests: a TCP server on 127.0.0.1 that runs one
session per connection in a thread; subclasses say what a session does."""

from __future__ import annotations

import socket
import struct
import threading


class FakeTelnetd:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sessions = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.sessions += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            self.session(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def session(self, conn: socket.socket) -> None:
        raise NotImplementedError

    @staticmethod
    def line(conn: socket.socket) -> str | None:
        """One line the client typed, stripped; None when it closed the connection."""
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(1)
            if not chunk:
                return None
            data += chunk
        return data.decode().strip()

    @staticmethod
    def reset_on_close(conn: socket.socket) -> None:
        """Make the coming close an RST, as BusyBox telnetd's hang-up is."""
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self.thread.join(5)
