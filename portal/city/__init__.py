"""The city's view (issue 20 part 5): the districts granted to an auditor side by side for a year."""
