"""Where a case stands in the 7 steps of complaint handling (SPEC §3, seed 003), and what
is missing. Computed from the record itself, so it can never disagree with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Case, InteractionKind, Status

# The first-contact checklist (SPEC §2: the first agent hears everything and checks the story).
CHECKLIST_ITEMS: list[tuple[str, Promise]] = [
    ("heard_fully", _("最後までお話を伺った（途中で遮らない）")),
    ("apologised", _("ご不便をおかけしたことをお詫びした")),
    ("identity_confirmed", _("お名前と連絡先を確認した")),
    ("contradictions_checked", _("お話に矛盾がないか確認した")),
    ("next_step_explained", _("次に何をいつまでに行うかお伝えした")),
    ("followed_up", _("解決後に満足度を確認した（フォローアップ）")),
]


@dataclass
class Step:
    number: int
    title: Promise
    done: bool
    missing: list[str] = field(default_factory=list)


@dataclass
class CaseFacts:
    """What the step computation needs, gathered by the case page in constant queries.
    Only what a person wrote counts: an automatic message (acknowledgement, after-hours
    answer, survey invitation) or a note the desk adds by itself (no author) ticks no step."""

    has_reply: bool  # a person wrote to the customer
    has_note: bool  # a person wrote an internal note
    commitment_count: int
    compensation_count: int


def seven_steps(case: Case, facts: CaseFacts) -> list[Step]:
    checked = case.checklist or {}
    info_missing = []
    if not (case.order_id or case.fact_order_number):
        info_missing.append(str(_("注文番号がまだありません")))
    if not (case.product_id or case.fact_product):
        info_missing.append(str(_("商品がまだ特定されていません")))
    if not case.fact_what_happened:
        info_missing.append(str(_("何が起きたかの詳しい説明がまだありません")))

    listen_missing = [] if case.complaint.strip() else [str(_("クレームの内容が記録されていません"))]
    if not checked.get("heard_fully"):
        listen_missing.append(str(_("最後までお話を伺ったかチェックされていません")))
    apology_done = bool(checked.get("apologised")) or facts.has_reply
    investigate_done = facts.has_note or case.status == Status.WAITING_DEPT or bool(case.landing_point)
    informed_done = facts.commitment_count > 0 or bool(checked.get("next_step_explained"))
    solution_done = bool(case.solution.strip()) or facts.compensation_count > 0
    resolved = case.status in (Status.RESOLVED, Status.CLOSED)
    follow_done = resolved and bool(checked.get("followed_up"))

    return [
        Step(1, _("傾聴"), not listen_missing, listen_missing),
        Step(2, _("謝罪"), apology_done, [] if apology_done else [str(_("お詫びがまだ記録されていません"))]),
        Step(3, _("情報収集"), not info_missing, info_missing),
        Step(4, _("調査・他部署連携"), investigate_done,
             [] if investigate_done else [str(_("調査のメモや着地点がまだありません"))]),
        Step(5, _("進捗の連絡"), informed_done,
             [] if informed_done else [str(_("お客様への約束（いつまでに何をするか）がまだありません"))]),
        Step(6, _("解決策の提示"), solution_done,
             [] if solution_done else [str(_("解決策・提案がまだ記録されていません"))]),
        Step(7, _("フォローアップ"), follow_done,
             [] if follow_done else [str(_("解決後の満足度確認がまだです"))]),
    ]


def current_step(steps: list[Step]) -> Step | None:
    """The first step not done yet: where the agent should look next."""
    return next((step for step in steps if not step.done), None)


def facts_for(case: Case) -> CaseFacts:
    kinds = set(case.interactions.filter(author__isnull=False).values_list("kind", flat=True).distinct())
    return CaseFacts(
        has_reply=InteractionKind.OUTBOUND in kinds,
        has_note=InteractionKind.NOTE in kinds,
        commitment_count=case.commitments.count(),
        compensation_count=case.compensations.exclude(state="rejected").count(),
    )
