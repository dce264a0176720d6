"""Texts: the SMS outbox and its gateway backends (outbox, Twilio), the dispatcher, signed
Twilio webhooks, opt-outs, short links and the words of every text.

Other domains queue texts with `texting.outbox.queue_sms` and write their words in
`texting.bodies`; nothing else here is theirs to call.
"""

from flask import Blueprint, Flask

bp = Blueprint("texting", __name__)


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.texting import views, webhooks  # noqa: F401  (routes on bp)
    from app.texting.cli import outbox
    from app.texting.labels import AUDIT_RESOURCES

    app.register_blueprint(bp)
    audit.register_labels(resources=AUDIT_RESOURCES)
    app.cli.add_command(outbox)
