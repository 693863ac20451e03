"""Annual performance evaluation (绩效评价, docs/DOMAIN.md §7, §9; issue 20 part 1): per contract and
year, the average of the year's quarterly scorecards weighed with the indicators the bureau scores
(weights: tenant settings), a written conclusion, the financial reports' summary and the
acceptance result beside it; prepared by one officer, approved by another (four eyes), published
as a disclosure with its due day. A contract evaluated below the tenant's threshold is flagged for
the renewal decision."""
