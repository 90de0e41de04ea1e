# Copyright: the AnkiConnect authors
# License: GNU GPL, version 3 or later; http://www.gnu.org/licenses/gpl.html
"""The command `ankiconnect` (also `python -m ankiconnect`): the API without Anki's window
(headless.py).

    ankiconnect serve --collection PATH [--bind ADDRESS] [--port PORT] [--config FILE]
                      [--sync-url URL] [--sync-every MINUTES]
    ankiconnect login --collection PATH [--user NAME] [--sync-url URL]
    ankiconnect sync --collection PATH [--full-upload | --full-download] [--sync-url URL]

Exit status 0 (serve: after SIGTERM or SIGINT), 2 when it cannot do it (the reason on stderr).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import List, Optional


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ankiconnect", description="The AnkiConnect API on a collection, without Anki's "
        "window: the same wire protocol as the add-on; the gui* actions answer an error.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a collection until SIGTERM or SIGINT")
    login = commands.add_parser("login", help="log in to AnkiWeb (or --sync-url) and keep the "
                                "sync key beside the collection (never the password)")
    sync = commands.add_parser("sync", help="sync the collection once (with the server stopped)")
    for command in (serve, login, sync):
        command.add_argument("--collection", required=True,
                             help="the collection file (collection.anki2); made if only its "
                             "folder exists")
        command.add_argument("--sync-url", help="a self-hosted sync server instead of AnkiWeb")
    serve.add_argument("--bind", help="the address to listen on (config webBindAddress, "
                       "default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="the port (config webBindPort, default 8765)")
    serve.add_argument("--config", help="a JSON file with the add-on's config keys")
    serve.add_argument("--sync-every", type=float, metavar="MINUTES",
                       help="sync every MINUTES, and once more when stopping")
    login.add_argument("--user", help="the AnkiWeb user (default: $ANKICONNECT_SYNC_USER, else "
                       "asked); the password comes from $ANKICONNECT_SYNC_PASSWORD, else asked")
    full = sync.add_mutually_exclusive_group()
    full.add_argument("--full-upload", action="store_true",
                      help="replace the server's collection with this one")
    full.add_argument("--full-download", action="store_true",
                      help="replace this collection with the server's")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)

    from . import headless

    try:
        if args.command == "serve":
            return headless.serve(args.collection, args.bind, args.port,
                                  headless.read_config(args.config), args.sync_url,
                                  args.sync_every)
        if args.command == "sync":
            full = "upload" if args.full_upload else "download" if args.full_download else None
            return headless.sync_once(args.collection, args.sync_url, full)
        user = args.user or os.environ.get(headless.ENV_USER) or input("AnkiWeb user: ")
        password = os.environ.get(headless.ENV_PASSWORD) or getpass.getpass("Password: ")
        col = headless.open_collection(args.collection)
        try:
            kept = headless.login(col, args.collection, user, password, args.sync_url)
        except headless.ServeError:
            raise
        except Exception as exc:  # the sync server's reason (a wrong password, say)
            raise headless.ServeError("cannot log in: %s" % exc)
        finally:
            col.close()
        print("AnkiConnect: logged in as %s; the sync key is in %s" % (user, kept))
        return 0
    except headless.ServeError as exc:
        print("ankiconnect: %s" % exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
