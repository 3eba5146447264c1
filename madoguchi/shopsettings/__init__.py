"""The shop's settings on the desk (issue 22 item 8): business hours and closed days, SLA
policies, the chat widget, and users and teams (invitations and password links by mail).

An app of its own rather than more of accounts/views.py: each page is a small view module
here (`hours.py`, `sla.py`, `chat.py`, `users.py`, `password.py`) over the owning app's models,
so the settings page (accounts) only links to them. Writes go through `services.py` (`do_*`),
each in one transaction with its settings-audit entry (accounts.audit)."""
