"""Cabinet in a process of its own, for the kill -9 trials (test_crash_safety).

``python -m tests.reliability.forkserver`` reads the settings (JSON) from the
environment variable CABINET_FORKSERVER_SETTINGS, builds the application once, then
obeys its standard input, one command a line:

- ``start``: fork a server process (waitress on a new free port, the application as
  built, its database pool emptied so that it opens connections of its own) and
  answer ``<pid> <port>``; the test kills it with SIGKILL whenever it likes;
- ``quit``: end (the servers still running are killed).

Building Cabinet takes a second or two; forking a ready one takes milliseconds, so a
test can afford many crashes and restarts. Each server is a separate process that
has served nothing before: a restart as far as the database and the files are
concerned."""
import json
import logging
import os
import signal
import socket
import sys


def _die_with_the_parent():
    """Linux: the server gets SIGKILL if the fork server ends, however it ends."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main():
    import waitress
    from cabinet import main as make_app
    settings = json.loads(os.environ["CABINET_FORKSERVER_SETTINGS"])
    app = make_app({}, **settings)
    engine = app.registry["db_engine"]
    engine.dispose()
    children = set()

    def reap():
        # Children are reaped here only: a child's pid cannot be reused before, so
        # that the test's SIGKILL, and ours at the end, reach our own servers only.
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                children.discard(pid)

    for line in sys.stdin:
        reap()
        command = line.strip()
        if command == "quit":
            break
        if command != "start":
            print(f"error unknown command {command!r}", flush=True)
            continue
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        port = listener.getsockname()[1]
        pid = os.fork()
        if pid == 0:                                          # the server
            try:
                _die_with_the_parent()
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)                           # stdout is the test's
                # waitress warns "Task queue depth is N" under the clients' load
                logging.getLogger("waitress.queue").setLevel(logging.ERROR)
                engine.dispose(close=False)                   # connections of its own
                server = waitress.create_server(app, sockets=[listener], threads=8,
                                                channel_timeout=30, connection_limit=1000)
                server.run()
            finally:
                os._exit(1)
        listener.close()
        children.add(pid)
        print(f"{pid} {port}", flush=True)
    reap()
    for pid in children:                 # still ours: running, or not reaped yet
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
