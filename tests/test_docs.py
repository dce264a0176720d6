"""The configuration is documented: every variable config.py reads is in .env.example and
in the README's configuration table."""

import re

from tests.fixtures.app import ROOT


def config_variables() -> set[str]:
    source = (ROOT / "config.py").read_text()
    return set(re.findall(r'(?:env_int|env_bool|env_money|environ\.get)\("([A-Z_]+)"', source))


def test_env_example_lists_every_variable():
    example = (ROOT / ".env.example").read_text()
    missing = {v for v in config_variables() if not re.search(rf"^{v}=", example, re.M)}
    assert missing == set()


def test_readme_documents_every_variable():
    readme = (ROOT / "README.md").read_text()
    missing = {v for v in config_variables() if f"`{v}`" not in readme}
    assert missing == set()
