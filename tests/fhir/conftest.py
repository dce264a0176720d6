"""Fixtures of the FHIR tests (tests/fhir/fhir_world.py: the export's world)."""

from tests.fhir.fhir_world import fhir_world  # noqa: F401  (a fixture)
