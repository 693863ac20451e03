"""The audit trail: recording, verification, the auditor's page."""
