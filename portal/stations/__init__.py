"""Social-work stations and training (docs/DOMAIN.md §2.4, §6, §8): the hub and township stations
with their required staff and postings, daily presence by check-in at the station, monthly
staffing compliance and its deduction, target-group service logs, and training sessions with
attendance."""
