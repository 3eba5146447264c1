"""Starter content: the default greeting and closing, a few templates, handling rules, and
sample FAQ articles. Templates and rules are installed by migration 0003 (a shop edits
them afterwards); the articles are used by `load_sample_articles` (demo and tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

GREETING = "{{ customer.name }}様\n\nお世話になっております。カスタマーサポートの{{ agent.name }}でございます。"
CLOSING = "ご不明な点がございましたら、お気軽にお問い合わせください。\n今後ともよろしくお願いいたします。"
TEMPLATES = [
    ("書き出し（標準）", "greeting", GREETING, ""),
    ("結び（標準）", "closing", CLOSING, ""),
    ("配送状況のご案内", "body",
     "ご注文（注文番号：{{ order.number }}）の配送状況は、次のページでご確認いただけます。\n{{ order.tracking_url }}\n"
     "お届けまで今しばらくお待ちくださいますよう、お願い申し上げます。", ""),
    ("お詫び（破損・不良）", "body",
     "このたびは、お届けした商品に不具合があり、大変申し訳ございません。\n"
     "お手数ですが、商品の状態がわかるお写真をお送りいただけますでしょうか。確認でき次第、交換品を手配いたします。", ""),
    ("返品のご案内", "body",
     "返品をご希望とのこと、承知いたしました。商品到着後8日以内であれば、未使用品に限り返品を承っております。\n"
     "返送先と手順をご案内いたしますので、注文番号（{{ order.number }}）をご確認ください。", ""),
    ("お断り（返品期限を過ぎている）", "decline",
     "大変申し訳ございませんが、当店の「{{ rule.title }}」により、商品到着から8日を過ぎたご返品はお受けできません。\n"
     "すべてのお客様に同じ基準でご対応しているため、ご理解いただけますと幸いです。\n方針の全文：{{ rule.url }}", "returns"),
    ("お断り（不当な要求）", "decline",
     "当店では「{{ rule.title }}」に基づき、すべてのお客様に同じ基準で対応しております。\n"
     "ご要望の内容はこの基準を超えるため、お受けいたしかねます。\n方針の全文：{{ rule.url }}", "abusive"),
]
EFFECTIVE = dt.date(2026, 1, 1)
RULES = [
    ("returns", "返品・交換の基準", "returns", "description", True,
     "## 返品・交換の基準\n\n- 商品到着後**8日以内**・未使用の場合に限り、返品を承ります。\n"
     "- お客様のご都合による返品の送料はお客様のご負担です。\n- 不良品・誤配送の場合は期限にかかわらず当店が送料を負担し、交換または返金します。"),
    ("refunds", "返金の基準", "refunds", "billing", True,
     "## 返金の基準\n\n- 返品された商品の到着を確認してから**5営業日以内**に返金します。\n"
     "- 返金はご注文時のお支払い方法に戻します。クレジットカードの場合、明細への反映はカード会社により1〜2か月かかることがあります。"),
    ("delivery", "配送遅延への対応", "delivery", "delivery", True,
     "## 配送遅延への対応\n\n- 発送予定日を3日過ぎても届かない場合、当店から配送業者に調査を依頼します。\n"
     "- 紛失が確認された場合は、同じ商品を再発送するか、全額を返金します。"),
    ("defects", "不良品への対応", "defects", "defect", True,
     "## 不良品への対応\n\n- 到着時の破損・初期不良は、お写真で状態を確認したうえで交換品を送ります。\n"
     "- 交換品がない場合は全額を返金します。不良品の返送料は当店が負担します。"),
    ("abusive", "不当な要求への対応", "abusive", None, True,
     "## 不当な要求への対応\n\n次の要求には、どのお客様にもお応えしません。\n\n"
     "- 基準を超える金品・補償の要求\n- 大声・暴言・脅迫、長時間の拘束\n- 担当者個人への謝罪文・土下座などの要求\n\n"
     "担当者は、このルールを示してお断りし、記録を残して責任者に報告します。"),
    ("authority", "補償の権限と承認", "authority", None, False,
     "## 補償の権限と承認\n\n- 担当者・チームリーダーが承認なしで付与できる補償の上限は、設定の「権限の上限」の金額です。\n"
     "- 上限を超える補償はチームリーダー（リーダーの上限を超える場合は管理者）の承認を得てから、お客様に伝えます。\n"
     "- 承認前に金額をお客様に約束してはいけません。"),
]

ARTICLES = [
    ("商品が届かない・配送が遅れている場合", "delivery", ["配送", "遅延"],
     "ご注文の商品がまだ届かない場合は、注文確認メールに記載の**問い合わせ番号（追跡番号）**で配送状況をご確認ください。\n\n"
     "- 「発送準備中」「荷物受付」のまま数日たっている場合は、配送業者で荷物が止まっている可能性があります。\n"
     "- 発送予定日を3日過ぎてもお荷物が届かないときは、当店が配送業者に調査を依頼しますのでご連絡ください。\n"
     "- 紛失が確認された場合は、再発送または返金いたします。"),
    ("届いた商品が破損していた場合", "defect", ["破損", "交換"],
     "お届けした商品が割れていた・欠けていた・傷があった場合は、大変申し訳ございません。\n\n"
     "1. 商品と梱包箱の状態がわかるお写真を撮ってください（箱が潰れていた場合はその様子も）。\n"
     "2. お問い合わせフォームからお写真をお送りください。\n3. 確認後、交換品をお送りします。破損品の返送料は当店が負担します。"),
    ("返品・交換の方法", "description", ["返品", "交換"],
     "商品到着後8日以内・未使用（タグ付き）の商品は返品・交換を承ります。\n\n"
     "- サイズが合わない、イメージと違うなどお客様のご都合による返品は、送料をご負担ください。\n"
     "- マイページの「返品申請」から手続きし、同封の返品伝票で返送してください。"),
    ("返金はいつ受け取れますか", "billing", ["返金"],
     "返品された商品が当店に到着し、状態を確認してから5営業日以内に返金の手続きをします。\n\n"
     "- クレジットカードの場合、お金が戻るタイミングはカード会社の締め日によります（1〜2か月かかることがあります）。\n"
     "- 銀行振込の場合は、ご指定の口座に振り込みます。"),
    ("同じ注文で二重に請求されている場合", "billing", ["請求", "クレジットカード"],
     "カードの明細に同じ金額が2回表示されている場合、多くは与信確認（仮押さえ）で、数日で1件分が自動的に取り消されます。\n\n"
     "- 1週間たっても2回分の引き落としが残っている場合は、明細の画面と注文番号をお知らせください。二重請求を確認のうえ返金します。"),
    ("クーポンが使えない場合", "billing", ["クーポン"],
     "クーポンコードを入力してもエラーになる場合は、次をご確認ください。\n\n"
     "- 有効期限が切れていないか\n- 対象商品・最低購入金額の条件を満たしているか\n- 全角で入力していないか（半角英数字で入力してください）\n\n"
     "メルマガのクーポンは1回限り有効です。"),
    ("電源が入らない・動かない（初期不良）", "defect", ["初期不良", "家電"],
     "家電製品のスイッチを入れても動かない、ランプがつかない、充電できない場合は、初期不良の可能性があります。\n\n"
     "- コンセントや延長コードを変えてお試しください。\n- それでも電源が入らない場合は、到着から30日以内であれば新品と交換します。"),
    ("配達日時の変更・再配達（不在票が入っていた場合）", "delivery", ["再配達", "配達日時"],
     "お留守の間に配達があった場合は、ポストの不在票に記載の連絡先から再配達を依頼できます。\n\n"
     "- 受け取り日を週末や夜間に変えたいときは、配送業者のサイトで配達日時を変更できます。\n- 不在票がない場合は、問い合わせ番号で配送状況をご確認ください。"),
    ("領収書を発行してほしい", "billing", ["領収書"],
     "領収書はマイページの注文履歴から、宛名を入力してPDFで発行できます。\n\n"
     "- 会社名など宛名の指定や但し書きの変更にも対応しています。\n- 経費精算用に紙の領収書が必要な場合はご連絡ください。"),
    ("商品の色やサイズが説明と違う場合", "description", ["色", "サイズ", "説明"],
     "商品ページの写真は、ご覧の画面によって実物と色味が違って見えることがあります。\n\n"
     "- 届いた商品の色・サイズが商品説明の表記と違う場合は、誤配送の可能性があるため当店負担で交換します。\n"
     "- 写真と比べて紺色が黒っぽく見えるなど、色味の感じ方による返品は通常の返品基準になります。"),
    ("置き配の荷物が見当たらない場合", "delivery", ["置き配"],
     "配達完了になっているのに玄関先などに荷物が見当たらない場合は、宅配ボックス・物置・メーターボックスもご確認ください。\n\n"
     "- それでも見つからない場合は、配送業者に配達場所を確認しますのでご連絡ください。"),
]


def install_templates_and_rules(apps: Any = None) -> None:
    """Default templates and rules (idempotent). `apps` is the migration registry or None."""
    get = apps.get_model if apps is not None else _live_model
    Category, Rule, RuleVersion, ReplyTemplate = (
        get("cases", "Category"), get("knowledge", "Rule"), get("knowledge", "RuleVersion"), get("knowledge", "ReplyTemplate")
    )
    rules = {}
    for code, title, topic, category_code, public, body in RULES:
        category = Category.objects.filter(code=category_code).first() if category_code else None
        rule, _created = Rule.objects.get_or_create(
            code=code, defaults={"title": title, "topic": topic, "category": category, "public": public}
        )
        RuleVersion.objects.get_or_create(rule=rule, effective_from=EFFECTIVE, defaults={"body": body})
        rules[code] = rule
    for position, (name, kind, body, rule_code) in enumerate(TEMPLATES):
        ReplyTemplate.objects.get_or_create(
            name=name, team=None, owner=None,
            defaults={"kind": kind, "body": body, "rule": rules.get(rule_code), "position": position},
        )


def _live_model(app: str, name: str) -> Any:
    from django.apps import apps

    return apps.get_model(app, name)


def load_sample_articles(actor: Any = None) -> list[Any]:
    from madoguchi.cases.models import Category
    from madoguchi.knowledge.models import ArticleState, Visibility
    from madoguchi.knowledge.services import do_save_article

    created: list[Any] = []
    for title, category_code, tags, body in ARTICLES:
        created.append(do_save_article(
            None, actor=actor, title=title, body=body, visibility=Visibility.PUBLIC, state=ArticleState.PUBLISHED,
            category=Category.objects.filter(code=category_code).first(), tags=tags,
        ))
    return created
