"""Run by Kotti's own interpreter (var/kotti-venv), never by Cabinet's: fills a fresh
Kotti site for bench/kotti.py with a folder ``docs`` of ``N`` documents.

    var/kotti-venv/bin/python -P bench/kotti_site.py kotti.ini 50

(-P: bench/kotti.py must not shadow the ``kotti`` package.)
"""
import sys

import transaction
from pyramid.paster import bootstrap


def main(ini, count):
    env = bootstrap(ini)          # Kotti's populator creates the root and "admin"
    from kotti.resources import Document, get_root
    root = get_root()
    if "docs" not in root:
        folder = root["docs"] = Document(title="Docs", body="<p>A folder of documents</p>")
        for i in range(count):
            folder[f"d{i}"] = Document(title=f"Document {i}",
                                       body=f"<p>Body of document {i}.</p>" * 5)
    transaction.commit()
    env["closer"]()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
