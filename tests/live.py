"""A real waitress server for the application under test, and clients that send
requests at the same instant (one connection each, released by a barrier).

Every socket, barrier and join has a timeout: a broken mechanism makes a test fail,
never hang."""
import http.client
import json
import threading
from contextlib import contextmanager

import waitress
from waitress import wasyncore

TIMEOUT = 30  # seconds, for every socket operation, barrier and join


@contextmanager
def serving(app, threads=8, **options):
    """Serve ``app`` with waitress (``threads`` threads; ``options`` are waitress's,
    e.g. ``connection_limit``) on a free port, in a background thread;
    yield ``(host, port)``. The asyncore loop runs in small steps so that it can be
    stopped, and the server is closed from its own thread."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads,
                                    channel_timeout=TIMEOUT, **options)
    stop = threading.Event()

    def run():
        try:
            while not stop.is_set():
                wasyncore.loop(timeout=0.05, map=server._map, count=1)
        finally:
            server.close()
            wasyncore.close_all(server._map)
            server.task_dispatcher.shutdown(timeout=TIMEOUT)

    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.effective_port
    finally:
        stop.set()
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "the waitress server did not stop"


def encode(body, token):
    """A JSON request's body and headers (with a bearer token when given)."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return json.dumps(body or {}).encode("utf-8"), headers


def decode(data):
    try:
        return json.loads(data)
    except ValueError:
        return {"raw": data[:500].decode("utf-8", "replace")}


def request(address, method, path, body=None, token=None):
    """One JSON request on a fresh connection; returns ``(status, json body)``."""
    connection = http.client.HTTPConnection(*address, timeout=TIMEOUT)
    try:
        connection.request(method, path, *encode(body, token))
        response = connection.getresponse()
        return response.status, decode(response.read())
    finally:
        connection.close()


def login(address, login_name, password="demo"):
    status, body = request(address, "POST", "/@login",
                           {"login": login_name, "password": password})
    assert status == 200, body
    return body["token"]


def race_raw(address, requests):
    """Send ``requests`` ((method, path, data bytes, headers) each) at the same
    instant, each on a connection opened beforehand; ``[(status, body bytes)]`` in
    order (``(None, error)`` for a client that failed)."""
    barrier = threading.Barrier(len(requests), timeout=TIMEOUT)
    results = [None] * len(requests)

    def client(index, method, path, data, headers):
        connection = http.client.HTTPConnection(*address, timeout=TIMEOUT)
        try:
            connection.connect()  # connected before the start signal
            barrier.wait()
            connection.request(method, path, data, headers)
            response = connection.getresponse()
            results[index] = (response.status, response.read())
        except Exception as error:  # reported by the callers' assertions
            results[index] = (None, repr(error).encode())
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i, *call), daemon=True)
               for i, call in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    return results


def race(address, calls):
    """JSON ``calls`` ((method, path, body, token) each) at the same instant;
    ``[(status, json body)]`` in order."""
    results = race_raw(address, [(method, path, *encode(body, token))
                                 for method, path, body, token in calls])
    return [(status, decode(data) if status is not None else {"error": data.decode()})
            for status, data in results]
