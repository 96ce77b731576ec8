"""Outbound channels (SMS, e-mail, registered mail, mediation reports) fed by the outbox."""
