"""Acceptance (履约验收, docs/DOMAIN.md §7 "Acceptance"; issue 20 part 2): for one period of a contract
the bureau draws a sample of the people served, asks each of them (or their guardian) for their
opinion by phone or at home, and the acceptance committee records its result with the members'
signatures; the result is published. The final payment of a contract waits for a passed
acceptance covering its last day: billing asks ``final_payment_refusal`` before approving."""
