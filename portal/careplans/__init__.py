"""Care plans (一人一策, docs/DOMAIN.md §2.2, §6): the care contractor's needs assessment over four
dimensions, a plan per person with monthly frequencies of the catalogue services approved by the
bureau and kept in versions, planned against delivered per month from the verified visits, and
the list of people missed."""
