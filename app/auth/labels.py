"""How account events read on "Who has seen my record" and the administrators' pages."""

from flask_babel import lazy_gettext as _l

AUDIT_RESOURCES = {
    "account.mfa": _l("Your two-step sign-in (reset by an administrator)"),
}
