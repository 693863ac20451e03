"""Self-care ability assessments (docs/DOMAIN.md §2.1, §6): recorded at home by the contractor's
assessors, published with masked names, objected to, re-checked by the bureau, kept in the file
of each person (每人一档), and paid once final."""
