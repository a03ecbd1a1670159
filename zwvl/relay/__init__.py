"""The alert relay: Alertmanager's webhook receiver that turns alert groups into helpdesk tickets.

`tickets` says what a notification means (partner queue, one ticket per alert group, SLA from the
severity); `desk` does it on Request Tracker, idempotently; `server` is the HTTP receiver behind
`zwvl alert-relay` at the address the generated Alertmanager configuration names.
"""
