"""A requests transport adapter that answers from a WSGI application in this process.

Mounted on a `requests.Session`, it lets code that speaks HTTP talk to an app with no socket and no
port: our Shopify client to the sandbox store, or the sandbox's webhook sender to Django. The app
gets the environ a WSGI server would build (PEP 3333) and the caller a real `requests.Response`.

Time: an app that must take a while to answer calls `environ[SLEEP](seconds)` instead of
`time.sleep`, `connecting=True` if the wait happens before it reads the request. In process no time
passes, but a wait longer than the caller's timeout raises requests' ConnectTimeout or ReadTimeout,
as the same wait over a network would. An app served by a real server finds no such key and sleeps.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.exceptions import ConnectTimeout, ReadTimeout
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse

SLEEP = "wsgi_adapter.sleep"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WSGIAdapter(BaseAdapter):
    def __init__(self, app: WSGIApp) -> None:
        super().__init__()
        self.app = app

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        environ = wsgi_environ(request)
        environ[SLEEP] = _virtual_sleep(request, timeout)
        status, headers, body = _call(self.app, environ)
        return self._response(request, status, headers, body)

    def close(self) -> None:
        pass

    def _response(
        self, request: PreparedRequest, status: str, headers: list[tuple[str, str]], body: bytes
    ) -> Response:
        code, _, reason = status.partition(" ")
        response = Response()
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict()
        for name, value in headers:
            previous = response.headers.get(name)
            response.headers[name] = f"{previous}, {value}" if previous else value
        response.raw = HTTPResponse(
            body=io.BytesIO(body),
            headers=headers,
            status=int(code),
            reason=reason,
            preload_content=False,
        )
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url or ""
        response.request = request
        response.connection = self
        return response


def wsgi_environ(request: PreparedRequest) -> dict[str, Any]:
    url = urlsplit(request.url or "")
    body = _body_bytes(request.body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": (request.method or "GET").upper(),
        "SCRIPT_NAME": "",
        # PEP 3333: the path is decoded, its bytes carried as latin-1 characters.
        "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": url.netloc,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if hasattr(body, "read"):
        return _body_bytes(body.read())
    return b"".join(_body_bytes(chunk) for chunk in body)


def _call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info and started.get("sent"):
            raise exc_info[1].with_traceback(exc_info[2])
        started.update(status=status, headers=headers)
        return chunks.append  # the legacy write() callable

    result = app(environ, start_response)
    try:
        for chunk in result:
            started["sent"] = True
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if "status" not in started:
        raise RuntimeError("the WSGI app returned without calling start_response")
    return started["status"], list(started["headers"]), b"".join(chunks)


def _virtual_sleep(request: PreparedRequest, timeout: Any) -> Callable[..., None]:
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)

    def sleep(seconds: float, *, connecting: bool = False) -> None:
        limit = connect if connecting else read
        if limit is not None and seconds > limit:
            error = ConnectTimeout if connecting else ReadTimeout
            raise error(f"no answer within {limit} s (the app took {seconds} s)", request=request)

    return sleep
