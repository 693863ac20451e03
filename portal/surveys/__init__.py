"""Household economic surveys (家计调查, docs/DOMAIN.md §2.3, §6): families surveyed at home by the
contractor's surveyors (members, incomes, assets, rigid expenses, neighbour interviews), judged
against the minimum living standard in force that day, reviewed and signed off by two bureau
officers, re-checked on a sample, re-surveyed on schedule, counted per township, and paid once
signed off."""
