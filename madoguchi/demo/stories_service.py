"""Stories about money, about how the shop treated the customer, and everything else."""

from __future__ import annotations

from madoguchi.cases.models import CompensationKind, Priority
from madoguchi.demo.phrases import Ctx, first_message
from madoguchi.demo.story import Story


def _say(c: Ctx, polite: str, casual: str) -> str:
    return first_message(c, polite, casual, about_goods=False)


def double_charge(c: Ctx) -> Story:
    amount = c.order.amount_yen if c.order else 4950
    return Story(
        subject=c.pick("同じ注文で二重に請求されている", "代金が2回引き落とされています", "二重請求ではないですか"),
        complaint=_say(
            c,
            c.pick(
                f"カードの明細を見たら、注文番号 {c.number} の代金 {amount:,}円が2回引き落とされています。注文は1回しかしていません。",
                f"今月のクレジットカードの利用明細に、貴店で{amount:,}円の請求が同じ日に2件並んでいます。注文したのは{c.number}の1件だけです。",
                f"{c.number}の支払いについてです。決済のときにエラーが出たのでもう一度ボタンを押したら、{amount:,}円が二重に引き落とされていました。",
            ),
            c.pick(f"カードの明細見たら{amount:,}円が2回引かれてるんですが…注文1回しかしてないです",
                   f"こもれび堂さんの請求が2件来てる。{amount:,}円×2。二重請求では？"),
        ),
        fact_product=c.item.short,
        what_happened=f"同一注文（{amount:,}円）がクレジットカードで二重に請求された。",
        when="カード明細で気付いた（今月分）",
        reply="二重にご請求してしまい、大変申し訳ございません。決済の記録をすぐに確認いたします。",
        ask="お手数ですが、カード明細の該当部分の日付を教えていただけますでしょうか（カード番号は不要です）。",
        answer="2件とも同じ日付で、金額も同じです。",
        note="決済代行の管理画面で同一注文の売上が2件計上されているのを確認。決済エラー時の再送が原因。経理部に1件の取消を依頼。",
        dept="経理部",
        dept_request="重複した売上1件の取消処理",
        promise="経理部の取消処理の完了をご連絡する",
        proposal=f"重複した{amount:,}円のご請求は取り消しました。カード会社の処理により、明細への反映まで1〜2か月かかる場合がございます。ご迷惑をおかけしたお詫びとして、次回30％割引のクーポンをお送りいたします。",
        accept="取り消してもらえるなら大丈夫です。",
        solution=f"重複請求{amount:,}円を取消。お詫びに次回30％割引クーポン。",
        landing="経理部で取消完了。翌月のカード明細で反映を確認していただくようご案内済み。",
        comp=(CompensationKind.REFUND, amount, "二重請求の取消（当店決済のエラー）"),
        priority=Priority.HIGH,
    )


def coupon_not_applied(c: Ctx) -> Story:
    yen = c.pick("500", "1000")
    return Story(
        subject=c.pick("クーポンが適用されていない", "クーポンを使ったのに割引されていません"),
        complaint=_say(
            c,
            c.pick(
                f"メールで届いた{yen}円引きのクーポンコードを入力して注文しましたが、確認メールの金額が割引されていません。注文番号は{c.number}です。",
                f"誕生月の{yen}円クーポンを使ったつもりでしたが、請求額がそのままでした。入力の仕方が悪かったのでしょうか。",
            ),
            c.pick(f"{yen}円クーポン使ったはずなのに割引されてない！", f"クーポン入れたのに{yen}円引かれてないです"),
        ),
        fact_product=c.item.short,
        what_happened=f"{yen}円引きクーポンを入力したが、請求額に反映されていない。",
        when="注文時",
        reply="クーポンが反映されておらず、ご不便をおかけしております。注文時の記録を確認いたします。",
        ask="クーポンコードをもう一度お知らせいただけますでしょうか。",
        answer="KOMO-AUTUMN です。",
        note="クーポンは有効だったが、カート画面で「適用」ボタンが押されていなかった。入力欄の分かりにくさもあるため差額を返金する。",
        dept="経理部",
        dept_request="クーポン差額の返金処理",
        promise="差額の返金完了をご連絡する",
        proposal=f"今回はクーポン分の{yen}円を返金いたします。分かりにくい画面で申し訳ございませんでした。",
        accept="ありがとうございます。",
        solution=f"クーポン差額{yen}円を返金。",
        landing="返金済み。カート画面の「適用」ボタンを分かりやすくするよう担当に共有。",
        comp=(CompensationKind.REFUND, int(yen), "クーポン未適用の差額"),
        priority=Priority.LOW,
    )


def subscription_after_cancel(c: Ctx) -> Story:
    return Story(
        subject=c.pick("解約したはずの定期便が届いて請求された", "定期便の解約ができていない"),
        complaint=_say(
            c,
            c.pick(
                "ほうじ茶の定期便をマイページから解約したのに、今月分が届き、1,980円が請求されました。解約の確認メールも残っています。",
                "先月でほうじ茶の定期便をやめたはずなのですが、今月もお茶が届きました。解約できていなかったのでしょうか。代金はどうなりますか。",
            ),
            c.pick("定期便解約したのにまた届いて請求きた…", "ほうじ茶の定期便、解約したのに今月も来ました。請求も来てます"),
        ),
        fact_product="ほうじ茶の定期便",
        what_happened="定期便の解約手続き後に翌月分が発送・請求された。",
        when="今月10日のお届け分",
        reply="解約のお手続きをいただいていたにもかかわらず、お届けとご請求が発生してしまい申し訳ございません。",
        ask="解約の確認メールの受信日をお知らせいただけますか。",
        answer="月初めの3日です。",
        note="解約受付が締め日（前月末）を過ぎていたため翌月分が確定していた。ただし確認メールに締め日の説明がない。当店の案内不足として対応。",
        dept="経理部",
        dept_request="定期便1か月分の請求取消",
        promise="請求取消の完了をご連絡する",
        proposal="今月分の1,980円は返金いたします。お届けした商品はそのままお使いください。",
        accept="返金していただけるなら大丈夫です。",
        solution="今月分1,980円を返金、商品は返送不要。",
        landing="返金済み。解約確認メールに締め日の説明を追記するよう依頼。",
        comp=(CompensationKind.FREE_PERIOD, 1980, "解約後に届いた定期便1か月分を無料に"),
    )


def shipping_charged(c: Ctx) -> Story:
    return Story(
        subject=c.pick("送料無料のはずが送料が請求された", "送料について"),
        complaint=_say(
            c,
            c.pick(
                f"5,500円以上で送料無料と書いてありましたが、注文番号 {c.number} で送料550円が請求されています。",
                f"クーポンを使って注文したところ送料550円がかかっていました。商品代金は5,500円を超えているので無料だと思っていました（{c.number}）。",
            ),
            c.pick("5500円以上買ったのに送料取られてます", "送料無料ラインこえてるのに送料550円ついてました"),
        ),
        fact_product=c.item.short,
        what_happened="送料無料の条件を満たしていたのに送料550円が請求された。",
        when="注文確認メールで気付いた",
        reply="送料の件、ご確認いただきありがとうございます。請求内容を確認いたします。",
        ask="恐れ入りますが、ご注文確認メールに記載の合計金額を教えていただけますでしょうか。",
        answer=f"{c.order.amount_yen + 550 if c.order else 6050:,}円になっています。",
        note="クーポン値引き後の金額で送料判定されていた。規定では値引き前の金額で判定するため当店の設定ミス。",
        dept="経理部",
        dept_request="送料550円の返金",
        promise="送料の返金完了をご連絡する",
        proposal="確認したところ当店の設定の誤りでした。送料550円を返金いたします。申し訳ございませんでした。",
        accept="ありがとうございます。",
        solution="送料550円を返金。",
        landing="返金済み。送料判定の設定を修正。",
        comp=(CompensationKind.DISCOUNT, 550, "送料判定の設定ミス"),
        priority=Priority.LOW,
    )


def slow_reply(c: Ctx) -> Story:
    return Story(
        subject=c.pick("問い合わせの返事が来ない", "先日の問い合わせの件", "返信がありません"),
        complaint=_say(
            c,
            c.pick(
                "3日前にお問い合わせフォームから質問を送りましたが、まだ何の返事もありません。受付のメールも来ていません。ちゃんと届いているのでしょうか。",
                f"先週、{c.item.short}についてメールで質問しましたが、返事がありません。お忙しいのかもしれませんが、せめて受け付けたかどうかだけでも知らせてほしいです。",
            ),
            c.pick("3日前に問い合わせたのに返事ないんだけど。見てます？", "問い合わせしたのに何日も放置されてます"),
        ),
        fact_product="",
        what_happened="問い合わせフォームからの質問に3日間返信がない。自動受付メールも届いていない。",
        when="3日前に問い合わせ",
        reply="お返事が遅くなり、大変申し訳ございません。いただいたお問い合わせを確認いたしました。",
        ask="念のため、お送りいただいたご質問の内容をもう一度お知らせいただけますでしょうか。",
        answer=f"{c.item.short}のお手入れ方法を知りたかったんです。",
        note="フォームの自動返信メールが迷惑メール扱いになっていた可能性。元の問い合わせは担当者が未割り当てのまま埋もれていた。",
        dept="情報システム部",
        dept_request="問い合わせフォームの送信記録と自動返信メールの確認",
        promise="元のご質問への回答をお送りする",
        proposal="お問い合わせいただいたご質問への回答をお送りします。お待たせしたお詫びとして、次回使えるクーポン500円をお送りいたします。",
        accept=c.pick("返事をもらえて安心しました。", "次からはもっと早くお願いします。"),
        solution="遅れたことを謝罪し回答。クーポン500円。",
        landing="回答済み。未割り当ての問い合わせを毎朝確認する運用に変更。",
        comp=(CompensationKind.COUPON, 500, "返信の遅れへのお詫び"),
    )


def rude_phone(c: Ctx) -> Story:
    return Story(
        subject=c.pick("電話の対応が冷たかった", "電話での対応について", "担当者の言い方がひどい"),
        complaint=_say(
            c,
            c.pick(
                "昨日お電話で返品のことを伺った際、担当の方に「規定ですので」の一点張りで、こちらの話をほとんど聞いてもらえませんでした。とても嫌な気持ちになりました。",
                f"{c.item.short}の返品について電話で相談したところ、途中で話をさえぎられ、面倒そうな口調で「できません」と言われました。こちらは事情を説明したかっただけです。",
                "昨日電話した者です。こちらが話している途中で何度も保留にされ、最後は「ホームページを見てください」で終わりました。お店の方の対応としてどうなのでしょうか。",
            ),
            c.pick("昨日電話したら話ちゃんと聞いてもらえなかった。あの対応はないと思う", "電話の人の言い方、すごく感じ悪かったです"),
        ),
        fact_product=c.item.short,
        what_happened="前日の電話で、担当者が規定の説明だけでお客様の話を聞かなかった。",
        when="昨日の電話",
        reply="お電話での対応でご不快な思いをおかけし、誠に申し訳ございません。当日の状況を確認のうえ、改めてご連絡いたします。",
        ask="差し支えなければ、お電話をいただいたおおよその時間を教えていただけますでしょうか。",
        answer=c.pick("昨日の午後3時ごろです。", "お昼休み明けの1時過ぎだったと思います。"),
        note="当日の通話記録を確認。返品条件の説明を急ぎ、お客様の事情（贈答用だった）を聞けていなかった。リーダーから担当者へフィードバック済み。",
        dept="情報システム部",
        dept_request="当日の通話録音の取り出し",
        promise="リーダーからお詫びのお電話をする",
        proposal="改めてお話を伺い、今回は特別に返品を承ります。担当者には指導を行いました。",
        accept="ちゃんと聞いてもらえてよかったです。",
        solution="リーダーが改めて傾聴し謝罪。返品を受付。",
        landing="返品受付済み。通話応対の研修で事例として共有。",
        priority=Priority.HIGH,
    )


def gift_wrapping(c: Ctx) -> Story:
    return Story(
        subject=c.pick("ギフト包装を頼んだのに包装されていなかった", "ラッピングされていませんでした"),
        complaint=_say(
            c,
            c.pick(
                f"ギフト包装（有料）を選んで注文したのに、包装なしで届きました。注文番号は{c.number}です。このままでは渡せません。",
                f"プレゼント用にラッピングをお願いした{c.item.short}が、そのままの箱で届きました。週末に渡す予定なので困っています。",
            ),
            c.pick("ギフト包装頼んだのに包装されてなかった…", "ラッピング頼んだのに普通の箱で届きました"),
        ),
        fact_product=c.item.short,
        what_happened="有料のギフト包装を選択したが、包装なしで届いた。",
        when="到着時",
        reply="ギフト包装をご依頼いただいたのに、包装せずにお送りしてしまい申し訳ございません。",
        ask="お渡しになるご予定の日を教えていただけますか。間に合うように手配いたします。",
        answer="今週の土曜日に渡したいです。",
        note="出荷時に包装指示の印字が漏れていた。包装済みの代替品を速達で送る。",
        dept="物流部",
        dept_request="包装済み代替品の速達出荷",
        promise="包装済みの代替品を土曜日までに届ける",
        proposal="包装済みのお品物を速達でお送りいたします。先にお届けした品はそのままお使いください。包装料は返金いたします。",
        accept="間に合いそうで安心しました。",
        solution="包装済み代替品を速達で送付、包装料330円を返金。",
        landing="土曜日までの到着を確認。出荷指示の包装欄の印字を修正。",
        comp=(CompensationKind.REFUND, 330, "ギフト包装料の返金"),
        priority=Priority.HIGH,
    )


OTHER = [
    ("{s}の再入荷はいつですか", "{s}が品切れになっていますが、再入荷の予定はありますか。", "{s}っていつ再入荷しますか？",
     "品切れ商品の再入荷予定の問い合わせ", "商品部に入荷予定を確認。来月中旬の予定。",
     "{s}は来月中旬に再入荷の予定です。入荷しましたらメールでお知らせするよう登録いたしました。",
     "再入荷の予定をご案内し、入荷お知らせメールを登録。", "商品部", "再入荷の予定日の確認"),
    ("領収書の宛名を変更したい", "注文番号 {n} の領収書を、会社名の宛名で発行し直していただけますか。", "領収書の宛名変えられますか？",
     "領収書の宛名変更の依頼", "経理部で宛名を変更した領収書をPDFで発行。",
     "宛名を変更した領収書をPDFでお送りしました。ご確認ください。", "宛名変更の領収書をメールで送付。", "経理部", "宛名を変更した領収書の発行"),
    ("注文後に届け先を変えたい", "先ほど注文した {n} ですが、届け先を実家の住所に変更したいです。", "さっき頼んだやつ、届け先変えられますか",
     "注文直後の届け先変更", "出荷前だったため、物流部で届け先を変更。",
     "まだ出荷前でしたので、お届け先をご実家のご住所に変更いたしました。", "届け先を変更し、変更後の内容をメールで確認いただいた。",
     "物流部", "出荷前の届け先変更"),
    ("{s}の使い方を教えてほしい", "{s}を買ったのですが、最初に何をすればよいのか分かりません。説明書を失くしてしまいました。",
     "{s}って最初どうやって使えばいいですか？", "使い始めの手入れ方法の質問", "よくある質問の記事で案内できる内容。FAQへのリンクを送る。",
     "使い始めの手順をお送りします。詳しくは「よくある質問」のページもご覧ください。", "使い始めの手順をご案内し、よくある質問のページをお送りした。",
     "商品部", "使い始めのお手入れ手順の確認"),
    ("パスワード再設定のメールが届かない", "マイページのパスワードを再設定しようとしていますが、メールが届きません。", "パスワード再設定のメールが来ない",
     "パスワード再設定メールが届かない", "迷惑メールフォルダに入っていた。受信設定の案内で解決。",
     "再設定のメールが迷惑メールフォルダに届いている可能性がございます。当店からのメールを受信できるよう設定のうえ、もう一度お試しください。",
     "受信設定をご案内し、再設定が完了したことを確認。", "情報システム部", "パスワード再設定メールの送信記録の確認"),
]


HOW_TO_SKUS = {"KB-CER-003", "KB-KIT-001", "KB-KIT-002"}  # goods that need care before first use


def other(c: Ctx) -> Story:
    options = [
        entry for entry in OTHER
        if ("使い方" not in entry[0] or c.item.sku in HOW_TO_SKUS) and ("再入荷" not in entry[0] or c.item.kind != "food")
    ]
    subject, polite, casual, happened, note, proposal, solution, dept, request = c.rng.choice(options)
    s, n = c.item.short, c.number or "先ほどの注文"
    return Story(
        subject=subject.format(s=s),
        complaint=_say(c, polite.format(s=s, n=n), casual.format(s=s)),
        fact_product=s if "{s}" in polite else "",
        what_happened=happened,
        when=c.pick("本日", "昨日", ""),
        reply="お問い合わせありがとうございます。確認いたしますので、少々お待ちください。",
        ask="念のため、ご登録のお名前とメールアドレスを教えていただけますでしょうか。",
        answer=f"{c.name}です。メールアドレスは登録しているものと同じです。",
        note=note,
        dept=dept,
        dept_request=request,
        promise="確認結果をご連絡する",
        proposal=proposal.format(s=s),
        accept=c.pick("ありがとうございます。", "助かりました！"),
        solution=solution,
        landing="ご案内済み。",
        priority=Priority.LOW,
        tells_order="{n}" in polite,
        thanks=c.pick("大丈夫です。ありがとうございました。", "おかげさまで解決しました。", "丁寧にありがとうございました。"),
    )


STORIES = {
    "billing": [double_charge, coupon_not_applied, subscription_after_cancel, shipping_charged],
    "service": [slow_reply, rude_phone, gift_wrapping],
    "other": [other],
}
