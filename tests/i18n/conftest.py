"""The demo CCO for the language checks: seeded once per test worker into an SQLite file that
each test copies (seeding takes seconds; a copy, milliseconds), or seeded per test into the
test's PostgreSQL schema. `demo_app(pseudo=True)` serves the pseudo-locale as English."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest

from app import create_app
from app.extensions import babel, db, limiter
from tests.fixtures.app import IsolatedClient, _empty_postgres, _sqlite_pragmas


def forget_translations() -> None:
    """Flask-Babel keeps loaded catalogs on the one Babel object, by locale, whatever the app:
    the pseudo "en" must not stay for the next test in this process (nor the real one for it)."""
    domain = vars(babel).get("domain_instance")  # made, and kept, on first use
    if domain is not None:
        domain.cache.clear()


@pytest.fixture(scope="session")
def pseudo_dir(tmp_path_factory):
    """The pseudo-locale catalog, from a fresh extraction of app/ (app.core.pseudo)."""
    from app.core import pseudo
    from app.core.cli import extract

    target = tmp_path_factory.mktemp("pseudo")
    pseudo.build(target, extract)
    return target


def _overrides(pseudo_dir) -> dict:
    return {"BABEL_TRANSLATION_DIRECTORIES": str(pseudo_dir)} if pseudo_dir else {}


def _seed() -> None:
    from app.demo import seed

    seed()
    db.session.commit()


@pytest.fixture(scope="session")
def seeded_templates(database, tmp_path_factory):
    """SQLite only: the demo seeded once per kind ("pseudo" or "real"), copied by each test."""
    made: dict[str, object] = {}

    def template(kind: str, pseudo_dir) -> object:
        if kind not in made:
            path = tmp_path_factory.mktemp("demo") / f"{kind}.db"
            shutil.copyfile(database["template"], path)
            overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", **_overrides(pseudo_dir)}
            app = create_app("testing", overrides)
            forget_translations()
            try:
                with app.app_context():
                    _sqlite_pragmas(db.engine)
                    _seed()
                    db.session.remove()
                    db.engine.dispose()
            finally:
                forget_translations()
            made[kind] = path
        return made[kind]

    return template


@pytest.fixture
def demo_app(database, tmp_path, seeded_templates, request):
    """`with demo_app(pseudo=...) as app:` the app over a freshly seeded demo database."""

    @contextmanager
    def make(*, pseudo: bool = False):
        pseudo_dir = request.getfixturevalue("pseudo_dir") if pseudo else None
        if database["kind"] == "sqlite":
            path = tmp_path / "demo.db"
            shutil.copyfile(seeded_templates("pseudo" if pseudo else "real", pseudo_dir), path)
            overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
        else:
            overrides = {
                "SQLALCHEMY_DATABASE_URI": database["url"],
                "SQLALCHEMY_ENGINE_OPTIONS": database["options"],
            }
        app = create_app("testing", {**overrides, **_overrides(pseudo_dir)})
        app.test_client_class = IsolatedClient
        forget_translations()
        try:
            with app.app_context():
                if database["kind"] == "sqlite":
                    _sqlite_pragmas(db.engine)
                else:
                    _seed()
                limiter.reset()
                try:
                    yield app
                finally:
                    db.session.remove()
                    if database["kind"] == "postgresql":
                        _empty_postgres(database)
                    db.engine.dispose()
        finally:
            forget_translations()

    return make
