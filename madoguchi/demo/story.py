"""What one demo case says, from the first complaint to the follow-up (SPEC §3's 7 steps)."""

from __future__ import annotations

from dataclasses import dataclass

from madoguchi.cases.models import Priority


@dataclass
class Story:
    subject: str
    complaint: str  # the customer's first message, in their words
    fact_product: str
    what_happened: str
    when: str
    reply: str  # the agent's first answer: apology and what happens next
    ask: str  # a question back to the customer (waiting on the customer)
    answer: str  # the customer's answer to it
    note: str  # internal note: what the investigation found
    dept: str  # the department asked
    dept_request: str  # what that department was asked
    promise: str  # what the agent promised, as a commitment
    proposal: str  # the solution offered to the customer
    accept: str  # the customer's answer to the proposal
    solution: str  # seed 000: 解決策や提案の詳細
    landing: str  # seed 000: 着地点
    comp: tuple[str, int, str] | None = None  # (kind, yen, reason)
    priority: int = Priority.NORMAL
    passage: int | None = None  # position of the misread passage, for description cases
    tells_order: bool = True  # whether the customer gave the order number
    thanks: str = ""  # the customer's last word after the follow-up, when the usual ones do not fit
