"""The baseline of bench/views.py: a bare Pyramid hello-world served by waitress.

    .venv/bin/python bench/hello.py --port 6550 --threads 4
"""
import argparse

from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response("Hello World!")


def make_app():
    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6550)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    import waitress
    waitress.serve(make_app(), host=args.host, port=args.port, threads=args.threads,
                   _quiet=True)


if __name__ == "__main__":
    main()
