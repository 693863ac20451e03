"""Signals the registry sends, so that it never imports the packages above it that care about a
person (assessments). Blinker signals are synchronous: every receiver runs inside the sending call,
in the same database transaction, and a DomainError raised by a receiver reaches the caller (the
status form shows it).

- ``status_recorded.send(entry, person=…, by=user)``: a dated change of status (a
  BeneficiaryStatus row, already flushed) was recorded through ``services.change_status``.
  Assessments opens a re-assessment when the person went to hospital or moved (docs/DOMAIN.md §6).
- ``person_panels.send(person, user=user)``: the person's page asks what else to show about them;
  each receiver returns a ``Panel`` (or None when the user may see nothing of it). Assessments
  answers with the current care class, the care standard and the link to the person's file.

Receivers are connected by the app factory (portal/__init__.py)."""
from typing import NamedTuple

from blinker import Namespace

_signals = Namespace()

status_recorded = _signals.signal("beneficiary-status-recorded")
person_panels = _signals.signal("person-panels")


class Panel(NamedTuple):
    """A section of the person's page filled by a package above the registry: a heading, facts as
    (label, value) pairs and links as (text, url) pairs, all already translated and fit to show."""
    title: str
    facts: tuple = ()
    links: tuple = ()


def panels_for(person, user):
    """The panels the receivers of ``person_panels`` give for this person and user, in the order
    the receivers were connected."""
    return [panel for _receiver, panel in person_panels.send(person, user=user) if panel is not None]
