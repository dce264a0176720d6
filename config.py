"""Configuration, read from the environment.

Every variable is listed in `.env.example` and in the README's configuration table. Production
(`APP_ENV=production`) refuses to start without its secrets: see `ProductionConfig.validate`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from exc


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def parse_topic_hours(value: str, topics=None) -> dict[str, int]:
    """Read "symptoms=2,medication=12" into {"symptoms": 2, "medication": 12}. With `topics`
    (the known topic names), a misspelt topic fails at start-up instead of being ignored."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        topic, _sep, hours = part.partition("=")
        topic = topic.strip()
        try:
            out[topic] = int(hours)
        except ValueError as exc:
            raise RuntimeError(f"MESSAGE_RESPONSE_HOURS: cannot read {part!r}") from exc
        if topics is not None and topic not in topics:
            known = ", ".join(topics)
            raise RuntimeError(f"MESSAGE_RESPONSE_HOURS: unknown topic {topic!r} (one of {known})")
        if out[topic] < 1:
            raise RuntimeError(f"MESSAGE_RESPONSE_HOURS: {part!r} must be at least 1 hour")
    return out


def parse_prices(value: str) -> dict[str, float]:
    """Read "LOINC:4548-4=10.50,CPT:71046=35" into {"LOINC:4548-4": 10.5, "CPT:71046": 35.0}
    (a test's code system and code, upper-case; a bare code matches any system)."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        key, _sep, amount = part.rpartition("=")
        try:
            price = float(amount)
        except ValueError as exc:
            raise RuntimeError(f"TEST_PRICES: cannot read {part!r}") from exc
        if not key.strip() or not price >= 0:
            raise RuntimeError(f"TEST_PRICES: {part!r} needs a code and a price of 0 or more")
        out[key.strip().upper()] = price
    return out


def env_money(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        amount = float(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an amount in US dollars, got {value!r}") from exc
    if not amount >= 0:
        raise RuntimeError(f"{name} must be 0 or more, got {value!r}")
    return amount


def parse_list(value: str) -> tuple[str, ...]:
    """Read "behavioral_health,substance_use" into a tuple."""
    return tuple(filter(None, (part.strip() for part in value.split(","))))


def check_categories(config: dict) -> None:
    """MINOR_CONFIDENTIAL_CATEGORIES may only name categories a grant can hold."""
    from app.core.privacy import GRANTABLE_NAMES

    unknown = [c for c in config["MINOR_CONFIDENTIAL_CATEGORIES"] if c not in GRANTABLE_NAMES]
    if unknown:
        raise RuntimeError(
            f"MINOR_CONFIDENTIAL_CATEGORIES: unknown categories {unknown}; use {GRANTABLE_NAMES}"
        )


def dev_secret_key() -> str:
    """A random key kept in instance/ so development sessions survive a restart.

    Never used in production, which must set SECRET_KEY.
    """
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def check_secret_key(key: str) -> None:
    """Long and not trivially guessable: 32+ characters, not a few repeated ones."""
    if len(key) < 32:
        raise RuntimeError("SECRET_KEY must be at least 32 characters in production")
    if len(set(key)) < 12:
        raise RuntimeError("SECRET_KEY looks made by hand; use secrets.token_urlsafe(48)")


def check_rules(config: dict) -> None:
    check_ages(config)
    check_categories(config)


def check_ages(config: dict) -> None:
    """The age rules only make sense as 0 < ADOLESCENT_AGE < ADULT_AGE."""
    if not 0 < config["ADOLESCENT_AGE"] < config["ADULT_AGE"]:
        raise RuntimeError("ADOLESCENT_AGE must be above 0 and below ADULT_AGE")
    if config["CAREGIVER_EXPIRY_NOTICE_DAYS"] < 0:
        raise RuntimeError("CAREGIVER_EXPIRY_NOTICE_DAYS cannot be negative")


class Config:
    APP_ENV = "development"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'carecircle.db'}")
    )
    #: hide_parameters: a database error's message (and so any log of it) never carries the
    #: values bound to the statement (phone numbers, message bodies). create_app keeps it on
    #: whatever options an override gives.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    #: DATABASE_URL points at PgBouncer in transaction mode: psycopg prepares no statements
    #: (a prepared statement lives in one server connection, the next transaction may get
    #: another). `?prepare_threshold=` in the URL does the same (docs/deployment.md).
    DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", False)
    SQLALCHEMY_RECORD_QUERIES = False

    # Languages shipped. Each one must have a complete catalog (CI checks it).
    # Each is named in its own language (the switcher shows it so); Arabic reads right to left.
    LANGUAGES = {
        "en": "English",
        "es": "Español",
        "vi": "Tiếng Việt",
        "ru": "Русский",
        "zh": "中文",
        "ar": "العربية",
        "so": "Soomaali",
    }
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "America/Los_Angeles"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGE_COOKIE = "cc_lang"

    # Sessions: a server-side record per login (auth.models.UserSession).
    SESSION_COOKIE_NAME = "cc_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    CARE_TEAM_IDLE_MINUTES = env_int("CARE_TEAM_IDLE_MINUTES", 15)
    PATIENT_IDLE_MINUTES = env_int("PATIENT_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12)

    #: The largest request body (forms): a bigger one is a 413 before anything reads it. Each
    #: form field is also capped at 500 kB (Flask's MAX_FORM_MEMORY_SIZE). The two message forms
    #: take files too: 3 x ATTACHMENT_MAX_BYTES more (app.messaging.attachments.views).
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
    #: The largest Bundle `POST /fhir` takes (app.fhir.import_api): a bigger one is a 413.
    FHIR_MAX_BUNDLE_BYTES = env_int("FHIR_MAX_BUNDLE_BYTES", 5 * 1024 * 1024)

    # Photos and files on messages (app.messaging.attachments): stored outside the web root.
    #: local (a directory) or s3 (any S3-style store; needs the `s3` extra, boto3).
    ATTACHMENT_STORAGE = os.environ.get("ATTACHMENT_STORAGE", "local")
    #: The local directory; empty: <instance>/attachments.
    ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR", "")
    ATTACHMENT_S3_BUCKET = os.environ.get("ATTACHMENT_S3_BUCKET", "")
    #: For a store that is not AWS (MinIO, Ceph...); credentials come from the environment
    #: (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION) as boto3 reads them.
    ATTACHMENT_S3_ENDPOINT_URL = os.environ.get("ATTACHMENT_S3_ENDPOINT_URL", "")
    #: Largest photo or file, each (3 per message).
    ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    #: Seconds to wait for Twilio's MMS media; a slow one is fetched later (fetch-media).
    ATTACHMENT_FETCH_TIMEOUT_SECONDS = float(
        os.environ.get("ATTACHMENT_FETCH_TIMEOUT_SECONDS") or 5
    )

    # Accounts
    #: Wrong passwords for an account (from browsers it has not signed in on) before sign-in
    #: slows down: then each try waits LOGIN_BACKOFF_SECONDS, doubling up to
    #: LOGIN_LOCKOUT_MINUTES, and the owner is emailed a link to lift it. A browser the account
    #: signed in on before is not slowed by strangers' tries (auth.services, "device cookie").
    LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_BACKOFF_SECONDS = env_int("LOGIN_BACKOFF_SECONDS", 30)
    LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    #: Failed sign-ins per address, whatever the account (a slow guesser across many accounts).
    LOGIN_FAILURE_LIMIT = os.environ.get("LOGIN_FAILURE_LIMIT", "30 per hour")
    #: Two-step sign-in (auth.mfa): the roles that must use it.
    MFA_REQUIRED_ROLES = tuple(
        r.strip()
        for r in os.environ.get("MFA_REQUIRED_ROLES", "care_team,admin").split(",")
        if r.strip()
    )
    #: How long a sign-in (or a "confirm it's you") lets someone change their password, email,
    #: phone, two-step sign-in or caregiver access without confirming again.
    FRESH_AUTH_MINUTES = env_int("FRESH_AUTH_MINUTES", 10)
    #: Following short links (/r/<code>), per address: a person taps a few, a guesser many.
    SHORT_LINK_RATE_LIMIT = os.environ.get("SHORT_LINK_RATE_LIMIT", "30 per minute")
    #: Requests per FHIR integration client (per token) to /fhir (app.fhir.clients).
    FHIR_RATE_LIMIT = os.environ.get("FHIR_RATE_LIMIT", "600 per minute")
    #: "Download my data" per signed-in user (app.fhir.download).
    FHIR_DOWNLOAD_RATE_LIMIT = os.environ.get("FHIR_DOWNLOAD_RATE_LIMIT", "10 per hour")
    INVITATION_MAX_AGE_HOURS = env_int("INVITATION_MAX_AGE_HOURS", 72)
    # How long a patient's invitation to a caregiver works (the link is single use).
    CAREGIVER_INVITE_HOURS = env_int("CAREGIVER_INVITE_HOURS", 72)
    PASSWORD_RESET_MAX_AGE_MINUTES = env_int("PASSWORD_RESET_MAX_AGE_MINUTES", 60)
    PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12)
    # Argon2id cost; tests lower it so the suite stays fast.
    ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST_KIB = env_int("ARGON2_MEMORY_COST_KIB", 65536)

    # Rate limiting (Flask-Limiter): Redis when REDIS_URL is set, memory otherwise.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    #: Keys in Redis start with this (several deployments can share one Redis).
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "")
    #: Redis unreachable: each worker counts in its own memory until Redis answers again
    #: (the limits then hold per worker), instead of every sign-in answering 500. The lockout
    #: per account is in the database and holds either way (docs/deployment.md, Redis).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = env_bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which has its own lifetime

    # Outgoing messages
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "outbox")
    MAIL_FROM = os.environ.get("MAIL_FROM", "CareCircle <no-reply@carecircle.test>")
    SMTP_HOST = os.environ.get("SMTP_HOST", "localhost")
    SMTP_PORT = env_int("SMTP_PORT", 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = env_bool("SMTP_STARTTLS", True)
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "outbox")
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
    TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
    TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "https://api.twilio.com")
    # The dispatcher (flask reminders run / dispatch --once)
    SMS_LEASE_SECONDS = env_int("SMS_LEASE_SECONDS", 60)
    #: Seconds to wait for Twilio to connect or answer; keep it well under SMS_LEASE_SECONDS.
    SMS_TIMEOUT_SECONDS = float(os.environ.get("SMS_TIMEOUT_SECONDS") or 10)
    SMS_RATE_PER_SECOND = env_int("SMS_RATE_PER_SECOND", 10)
    #: Texts one dispatcher worker sends at once (threads, each with a keep-alive connection).
    SMS_SEND_THREADS = env_int("SMS_SEND_THREADS", 16)
    SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 6)
    SMS_RETRY_BASE_SECONDS = env_int("SMS_RETRY_BASE_SECONDS", 30)
    SMS_RETRY_MAX_SECONDS = env_int("SMS_RETRY_MAX_SECONDS", 3600)
    # Reminder planning: caps per recipient (unless the patient agreed to more), how far ahead
    # recurring reminders are planned, and how long a reminder may wait for quiet hours to end.
    REMINDER_CAP_PER_DAY = env_int("REMINDER_CAP_PER_DAY", 1)
    REMINDER_CAP_PER_WEEK = env_int("REMINDER_CAP_PER_WEEK", 3)
    REMINDER_CAP_OPTED_IN_PER_DAY = env_int("REMINDER_CAP_OPTED_IN_PER_DAY", 6)
    REMINDER_PLAN_HOURS = env_int("REMINDER_PLAN_HOURS", 26)
    REMINDER_MAX_DELAY_MINUTES = env_int("REMINDER_MAX_DELAY_MINUTES", 120)

    # Links in emails and texts are built from this, never from the request's Host header.
    # Unset, it follows the port `flask run` serves on (FLASK_RUN_PORT; `make demo PORT=5001`).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:" + (
        os.environ.get("FLASK_RUN_PORT") or "5000"
    )
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
    TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
    # Shown on error pages and in SMS HELP replies.
    CCO_NAME = os.environ.get("CCO_NAME", "Willamette Valley Care Partners")
    #: `flask demo seed` adds twelve weeks of the CCO's past (app/demo/history.py), so the
    #: measures have trends; the tests leave it out (2.5 s a seed) unless a test asks for it.
    DEMO_HISTORY = env_bool("DEMO_HISTORY", True)
    CCO_CONTACT_PHONE = os.environ.get("CCO_CONTACT_PHONE", "+15035550100")
    DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")
    #: "Directions" on an appointment: a map search; {query} is the address, URL-encoded.
    MAP_SEARCH_URL = os.environ.get(
        "MAP_SEARCH_URL", "https://www.openstreetmap.org/search?query={query}"
    )

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Care plan: the same test ordered by two organizations this many days apart (or fewer)
    # is flagged as a possible duplicate.
    DUPLICATE_TEST_WINDOW_DAYS = env_int("DUPLICATE_TEST_WINDOW_DAYS", 30)

    # Measures (docs/metrics.md#flags): what a duplicate test cancelled from a flag would have
    # cost, in US dollars, by "SYSTEM:CODE" (or a bare code). Rough US list prices to start
    # with (e.g. Medicare's fee schedules); set the CCO's own with TEST_PRICES, which adds to
    # and overrides this table. A test not listed counts TEST_PRICE_DEFAULT_USD.
    TEST_PRICES = {
        "LOINC:4548-4": 10.0,  # A1c
        "LOINC:57698-3": 14.0,  # cholesterol (lipid panel)
        "LOINC:24362-6": 9.0,  # kidney function panel
        "LOINC:24356-8": 4.0,  # urine test
        "LOINC:44249-1": 5.0,  # depression screening (PHQ-9)
        "CPT:71046": 35.0,  # chest X-ray, two views
        "CPT:77067": 135.0,  # screening mammogram
        "CPT:45378": 380.0,  # colonoscopy
        "CPT:93306": 200.0,  # heart ultrasound
        "CPT:D0210": 120.0,  # dental X-rays, full mouth
    }
    TEST_PRICES.update(parse_prices(os.environ.get("TEST_PRICES", "")))
    TEST_PRICE_DEFAULT_USD = env_money("TEST_PRICE_DEFAULT_USD", 50.0)
    # A medicine conflict the team settled by stopping one of the two: a flat amount per flag,
    # 0 by default (what a conflict avoided costs is too varied to price).
    MEDICATION_CONFLICT_SAVING_USD = env_money("MEDICATION_CONFLICT_SAVING_USD", 0.0)

    # Messaging: who sees a topic first, and how fast the team aims to answer it (hours).
    MESSAGE_ROUTING = {
        "medication": ["pharmacy"],
        "appointment": ["nursing"],
        "symptoms": ["nursing", "primary_care"],
        "care_plan": ["nursing", "primary_care"],
        "social_needs": ["social_services"],
        "billing": ["nursing"],
        "other": ["nursing"],
        # "I'm not sure": the care coordinator (nursing) reads it and sends it on.
        "not_sure": ["nursing"],
    }
    MESSAGE_RESPONSE_HOURS = {
        "symptoms": 4,
        "medication": 24,
        "appointment": 24,
        "care_plan": 48,
        "social_needs": 48,
        "billing": 72,
        "other": 48,
        "not_sure": 24,
    }
    MESSAGE_RESPONSE_HOURS.update(
        parse_topic_hours(os.environ.get("MESSAGE_RESPONSE_HOURS", ""), MESSAGE_ROUTING)
    )

    # Caregiver access and age (ages are counted in the patient's time zone).
    # From this birthday on, a parent or guardian no longer sees the categories below.
    ADOLESCENT_AGE = env_int("ADOLESCENT_AGE", 12)
    # On this birthday a parent's or guardian's access ends, unless the care team recorded a
    # legal authority that continues (e.g. a court-appointed guardianship of an adult).
    ADULT_AGE = env_int("ADULT_AGE", 18)
    # What a teen's parent or guardian never sees, whatever the grant says (checked against
    # core.privacy.GRANTABLE when the app starts).
    MINOR_CONFIDENTIAL_CATEGORIES = parse_list(
        os.environ.get(
            "MINOR_CONFIDENTIAL_CATEGORIES", "behavioral_health,substance_use,sexual_reproductive"
        )
    )
    # The patient is reminded this many days before a caregiver's access ends (once).
    CAREGIVER_EXPIRY_NOTICE_DAYS = env_int("CAREGIVER_EXPIRY_NOTICE_DAYS", 14)

    @classmethod
    def validate(cls, config: dict) -> None:
        """Fill in development defaults. Production overrides this to fail instead."""
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = dev_secret_key()
        check_rules(config)


class DevelopmentConfig(Config):
    APP_ENV = "development"


class TestingConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    DEMO_HISTORY = False  # tests/demo/test_history.py turns it on
    SECRET_KEY = "test-only-secret-key-not-for-anything-else"  # noqa: S105
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST_KIB = 1024
    MAIL_BACKEND = "outbox"
    SMS_BACKEND = "outbox"
    REDIS_URL = ""
    PUBLIC_BASE_URL = "http://carecircle.test"
    #: Never the repository's instance/: files of a test run go to the system's temp directory.
    ATTACHMENT_DIR = str(Path(tempfile.gettempdir()) / "carecircle-test-attachments")


class ProductionConfig(Config):
    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL", "REDIS_URL")

    @classmethod
    def validate(cls, config: dict) -> None:
        missing = [name for name in cls.REQUIRED if not os.environ.get(name)]
        if missing:
            raise RuntimeError("Refusing to start in production without: " + ", ".join(missing))
        check_secret_key(config["SECRET_KEY"])
        if env_bool("FLASK_DEBUG", False) or config.get("DEBUG"):
            raise RuntimeError("Refusing to start in production with FLASK_DEBUG (the debugger)")
        if config["MAIL_BACKEND"] == "outbox":
            raise RuntimeError(
                "MAIL_BACKEND=outbox keeps sign-in links readable by admins; "
                "set MAIL_BACKEND=smtp in production"
            )
        if config["SMS_BACKEND"] != "twilio":
            raise RuntimeError(
                "SMS_BACKEND=outbox keeps texts (links, codes) on the server; "
                "set SMS_BACKEND=twilio in production"
            )
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
            if not config.get(name):
                raise RuntimeError(f"Refusing to start with SMS_BACKEND=twilio without {name}")
        if not config["REDIS_URL"]:
            # Several workers on several hosts: a limit kept in each worker's memory is no limit.
            raise RuntimeError("Refusing to start in production without REDIS_URL (rate limits)")
        if not config["PUBLIC_BASE_URL"].startswith("https://"):
            raise RuntimeError("PUBLIC_BASE_URL must be https:// in production")
        if not {"care_team", "admin"} <= set(config["MFA_REQUIRED_ROLES"]):
            raise RuntimeError("MFA_REQUIRED_ROLES must include care_team and admin in production")
        check_rules(config)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise RuntimeError(f"Unknown APP_ENV {name!r}; use one of {sorted(CONFIGS)}") from exc
