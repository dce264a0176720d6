"""POST /fhir: a transaction or batch Bundle from an integration client (helper E fills this in)."""
