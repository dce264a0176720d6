"""Telling people something is waiting for them, by text or email, in their language.

Texts go through an outbox table (`outbound_sms`): the `outbox` backend keeps them for admins
to read; the reminders work adds the Twilio backend and the dispatcher that sends queued texts.
"""
