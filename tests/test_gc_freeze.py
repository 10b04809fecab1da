"""Start-up objects are frozen out of the cyclic garbage collector when the .ini files
say so (cabinet.freeze_startup_objects): a full collection walked them all, a pause
of ~80 ms that set the document page's p99 (bench/views.py: 75 -> 52 ms)."""
import configparser
import gc
import weakref
from pathlib import Path

import pytest
from pyramid.settings import asbool

from cabinet import main

HERE = Path(__file__).resolve().parent.parent


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()       # the tests' own objects are collected as usual again


@pytest.mark.parametrize("ini", ["production.ini", "development.ini"])
def test_the_ini_files_freeze_the_start_up_objects(ini):
    parser = configparser.ConfigParser(defaults={"here": str(HERE)})
    parser.read(HERE / ini)
    assert asbool(parser["app:main"].get("cabinet.gc_freeze"))


class Cycle:
    def __init__(self):
        self.me = self


def test_the_application_freezes_what_start_up_built(settings, unfrozen):
    app = main({}, **{**settings, "cabinet.gc_freeze": "true"})
    assert gc.get_freeze_count() > 10_000
    # the registry is out of the collector's generations: no collection walks it
    assert gc.is_tracked(app.registry)
    assert id(app.registry) not in {id(o) for o in gc.get_objects()}
    # a cycle made afterwards (a request's) is collected as usual
    cycle = weakref.ref(Cycle())
    gc.collect()
    assert cycle() is None


def test_without_the_setting_nothing_is_frozen(settings, unfrozen):
    main({}, **settings)
    assert gc.get_freeze_count() == 0
