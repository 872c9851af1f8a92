"""The ticket domain: states and events, routing (rota, AB角, 全岗通), claim/transfer/complete
rules, clocks and escalation, reports. Knows nothing of WeChat or HTTP; `storage/` persists it.

Kept free of imports so the CLI can parse its arguments (desk.states) without the database layer:
import the operations from desk.desk (ServiceDesk) and the refusals from desk.refusals.
"""
