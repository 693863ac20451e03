"""Contractors' financial reports (健全财务报告制度, docs/DOMAIN.md §7 "Financial reports"; issue 20
part 3): per contract and month or year, how the money was used by category (staff, travel,
materials, management, other) in fen, with attachments judged by their content; submitted by the
contractor's manager, reviewed by the bureau's finance staff beside the settled amounts of the same
period (the difference shown), returned with comments or accepted. Reports not in by their due day
are listed as overdue; the annual evaluation carries a summary per contract."""
