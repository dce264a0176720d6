"""Domain-free building blocks: database base, forms, i18n, audit, access, security, CLI."""
