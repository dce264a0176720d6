"""The FHIR read API and export (helper F fills this in)."""
