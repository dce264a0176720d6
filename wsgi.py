"""WSGI entry point: `gunicorn wsgi:app` (APP_ENV=production needs its secrets set)."""

from app import create_app

app = create_app()
