"""One answered social needs screening (a FHIR QuestionnaireResponse, kept whole)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.extensions import db


class ScreeningResponse(db.Model):
    """A completed screening. `needs` is what the answers found (housing, food, transportation,
    utilities, safety), decided when it was saved; `response` is the QuestionnaireResponse as
    FHIR shapes it (questionnaire canonical, item linkIds, answer codings)."""

    __tablename__ = "screening_responses"
    __table_args__ = (
        sa.Index("ix_screening_responses_patient_authored", "patient_id", "authored_at"),
        sa.Index("ix_screening_responses_authored", "authored_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    #: Which questionnaire, e.g. "ahc-hrsn-core" (its canonical URL is in the response).
    questionnaire: Mapped[str] = mapped_column(sa.String(64))
    #: Who answered: the patient, a caregiver acting for them, or a team member for them.
    answered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: patient / caregiver / care_team (the Capacity the answers were given in).
    answered_as: Mapped[str] = mapped_column(sa.String(16))
    #: The language the questions were shown in.
    language: Mapped[str] = mapped_column(sa.String(8))
    authored_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Needs found, e.g. ["housing", "food"]; empty when none.
    needs: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: True when any need was found (the measure's "positive").
    positive: Mapped[bool] = mapped_column(default=False)
    #: The FHIR QuestionnaireResponse.
    response: Mapped[dict] = mapped_column(sa.JSON)


class ScreeningReferral(db.Model):
    """A need one screening found, and the referral that answers it: the one it suggested (a
    plan item of kind referral, owned by the community health worker, with no referral step
    yet: "suggested"), or the one already open for that need when the screening was saved.
    One row per screening and need; the measure follows the item's referral steps from here."""

    __tablename__ = "screening_referrals"
    __table_args__ = (
        sa.UniqueConstraint("response_id", "need", name="uq_screening_referrals_response_need"),
        sa.Index("ix_screening_referrals_patient_need", "patient_id", "need"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("screening_responses.id", ondelete="CASCADE")
    )
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    #: housing / food / transportation / utilities / safety (questions.Need).
    need: Mapped[str] = mapped_column(sa.String(16))
    #: The referral (NULL: nobody on the team could own one, or it was removed).
    item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_items.id", ondelete="SET NULL"), index=True
    )
    #: True when this screening created the item; False when it found one already open.
    suggested: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
