"""``initialize_cabinet_db <config.ini> [--demo]``: migrate the database with alembic,
create the site root and its folders, and with ``--demo`` load the demo data.
Running it again changes nothing that is already there."""
import argparse
import sys

from pyramid.paster import get_app, setup_logging

from cabinet.scripts import script_request

from cabinet.migrations import upgrade
from cabinet.scripts.demo import ensure_site, load_demo


def main(argv=sys.argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the .ini file, e.g. development.ini")
    parser.add_argument("--demo", action="store_true", help="load the demo data")
    args = parser.parse_args(argv[1:])
    setup_logging(args.config_uri)
    registry = get_app(args.config_uri).registry
    upgrade(registry["db_engine"])
    request = script_request(registry)
    with request.tm:
        ensure_site(request)
        if args.demo:
            load_demo(request)
    print("database ready" + (" with demo data" if args.demo else ""))
