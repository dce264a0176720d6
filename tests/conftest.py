"""The suite's fixtures live in plugin modules under tests/fixtures/, loaded here in dependency
order (a module comes after the ones it imports, so pytest rewrites each one's asserts)."""

pytest_plugins = [
    "tests.fixtures.speed",
    "tests.fixtures.app",
    "tests.fixtures.browser",
    "tests.fixtures.factories",
    "tests.fixtures.mail",
    "tests.fixtures.twilio",
    "tests.fixtures.scenarios",
]
