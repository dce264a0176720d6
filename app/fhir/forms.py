"""The Invite button of a caregiver an imported record names (app.fhir.proposal_views): where
to send the invitation when the record does not say."""

from __future__ import annotations

from app.caregivers.forms import InviteContactFields


class ProposalInviteForm(InviteContactFields):
    pass
