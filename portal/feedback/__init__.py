"""Public feedback and complaints (社会监督, docs/DOMAIN.md §9 "Public feedback"; issue 20 part 4):
anyone sends feedback about a contractor, a service, a notice or an assessment publicity without
an account and gets a tracking number; bureau officers assign and answer it within the tenant's
``feedback_answer_working_days`` working days; an answer is published, without the person's
details, when the sender agreed and it names none of the bureau's beneficiaries or workers."""
