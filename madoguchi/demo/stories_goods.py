"""Stories about the goods themselves: delivery, defects, and misread product descriptions."""

from __future__ import annotations

from madoguchi.cases.models import CompensationKind, Priority
from madoguchi.demo.phrases import Ctx
from madoguchi.demo.phrases import first_message as _say
from madoguchi.demo.story import Story


def not_arrived(c: Ctx) -> Story:
    days = f"{max(3, (c.received_at - c.order.shipped_at).days)}日" if c.order and c.order.shipped_at else "1週間"
    status = c.pick("「発送済み」", "「荷物受付」", "「作業店通過」")
    lost = c.rng.random() < 0.4
    return Story(
        subject=c.pick(f"{c.item.short}がまだ届きません", "注文した商品が届かない", "配送状況が何日も変わらない"),
        complaint=_say(
            c,
            c.pick(
                f"{c.ordered}注文した{c.item.short}（注文番号 {c.number}）がまだ届きません。{c.carrier}の問い合わせ番号 {c.tracking} で調べても、{days}ほど{status}のままです。",
                f"注文番号{c.number}の件です。発送のご連絡をいただいてから{days}経ちますが、まだ商品が届いていません。{c.carrier}のサイトでは{status}と表示されたままです。",
                f"発送済みのメールが来たのに、{c.item.short}が一向に届きません。問い合わせ番号は{c.tracking}です。どこにあるのか調べていただけますか。",
            ),
            c.pick(f"{days}前に頼んだ{c.item.short}まだ届かないんですけど…追跡しても{status}から動いてないです",
                   f"発送メール来てから{days}たつのに届かない。追跡番号 {c.tracking} です"),
        ),
        fact_product=c.item.short,
        what_happened=f"{c.carrier}の追跡が{status}のまま{days}以上更新されていない。お客様の手元に届いていない。",
        when=f"注文 {c.ordered}、発送連絡の後から",
        reply=f"お届けが遅れており、大変ご心配をおかけしております。ただいま{c.carrier}に荷物の所在を確認しております。分かり次第ご連絡いたします。",
        ask="念のため、お届け先のご住所（建物名・部屋番号まで）に変更がないかお知らせいただけますでしょうか。",
        answer=c.pick("住所は注文時のままで変わっていません。", "マンション名を入れ忘れていたかもしれません。○○ハイツ203号室です。"),
        note=(f"{c.carrier}に調査依頼。営業所で荷物が見つからず、紛失扱いとなる見込み。代替品の手配を検討。" if lost
              else f"{c.carrier}に確認。宛先の部屋番号不明で営業所に保管されていた。本日中に再配達の手配済み。"),
        dept="物流部",
        dept_request=f"{c.carrier}への調査結果の確認（問い合わせ番号 {c.tracking}）",
        promise="配送業者の調査結果をお客様にお電話で連絡する",
        proposal=("大変申し訳ございません。配送中に荷物が行方不明となってしまいました。代わりの品を本日発送いたします。お詫びに次回使えるクーポンをお送りします。" if lost
                  else "荷物は配送業者の営業所で保管されていました。本日中に再配達いたします。お待たせして申し訳ございません。"),
        accept=c.pick("分かりました。届くのを待っています。", "ご対応ありがとうございます。", "了解しました。次は早くお願いします。"),
        solution=("配送中の紛失のため代替品を送料当店負担で再送。お詫びにクーポン500円を付与。" if lost
                  else "営業所保管の荷物を再配達手配。配送状況を確認のうえお客様へ連絡。"),
        landing=("代替品を発送済み。到着を問い合わせ番号で確認し、お客様に到着確認の連絡をする。" if lost
                 else "再配達で受け取り済みをお客様に確認。物流部へ住所入力欄の案内改善を依頼。"),
        comp=(CompensationKind.COUPON, 500, "配送中の紛失によるお詫び") if lost else None,
        priority=Priority.HIGH if lost else Priority.NORMAL,
    )


def delivered_not_received(c: Ctx) -> Story:
    return Story(
        subject=c.pick("配達完了になっているのに受け取っていない", "配達済みと表示されているのに届いていません"),
        complaint=_say(
            c,
            c.pick(
                f"問い合わせ番号 {c.tracking} を確認すると「配達完了」になっていますが、受け取っていません。宅配ボックスにも入っていませんでした。",
                f"{c.carrier}の追跡では昨日配達済みになっているのですが、家には何も届いていません。置き配の指定もしていません。",
            ),
            c.pick("追跡見たら配達完了になってるのに届いてないです。宅配ボックスにもなかった",
                   "配達完了ってなってるけど受け取ってません。誰かほかの人に届いてない？"),
        ),
        fact_product=c.item.short,
        what_happened="配送業者の記録では配達完了だが、お客様は受け取っていない。宅配ボックス・玄関先にもなし。",
        when=f"{c.ordered}注文、配達完了の表示は数日前",
        reply=f"ご心配をおかけして申し訳ございません。{c.carrier}に配達時の状況を確認いたします。",
        ask="念のため、ご近所やご家族の方が受け取っていないかご確認いただけますでしょうか。",
        answer=c.pick("家族にも聞きましたが、誰も受け取っていません。", "隣の家にも聞きましたが、ないそうです。"),
        note=f"{c.carrier}のドライバーに確認。同じ建物の別の部屋に誤って配達していた。回収して本日届け直す。",
        dept="物流部",
        dept_request=f"{c.carrier}へ配達状況の調査依頼",
        promise="配送業者の回答をお客様に連絡する",
        proposal="配達員が誤って同じ建物の別のお部屋にお届けしておりました。本日回収し、改めてお届けいたします。ご迷惑をおかけし誠に申し訳ございません。",
        accept="見つかってよかったです。ありがとうございます。",
        solution="誤配達分を配送業者が回収し、お客様へ届け直し。",
        landing="お客様が受け取ったことを確認。配送業者には再発防止を申し入れ済み。",
        priority=Priority.HIGH,
    )


def late_for_date(c: Ctx) -> Story:
    wanted = c.pick("誕生日", "結婚祝いのお返し", "母の還暦祝い", "引っ越し祝い")
    return Story(
        subject=c.pick("指定した日に届かなかった", "配達日指定が守られなかった"),
        complaint=_say(
            c,
            c.pick(
                f"{wanted}に使うため配達日を指定して{c.item.short}を注文しましたが、指定日に届きませんでした。注文番号は{c.number}です。日付を指定した意味がありません。",
                f"{c.number}で配達日を指定していましたが、届いたのは翌日でした。{wanted}の日に間に合わせたかったので、とても残念です。",
            ),
            c.pick(f"{wanted}用に日付指定したのに間に合わなかったです。何のための日付指定なんですか",
                   f"日付指定したのに1日遅れて届きました。{wanted}に間に合わなかった…"),
        ),
        fact_product=c.item.short,
        what_happened=f"配達日指定（{wanted}用）に間に合わず、1日遅れて届いた。",
        when="配達指定日の翌日に到着",
        reply="せっかく日付をご指定いただいたのに間に合わず、大変申し訳ございません。出荷の記録と配送の状況を確認しております。",
        ask="差し支えなければ、実際にお受け取りになった日時を教えていただけますでしょうか。",
        answer="指定日の翌日のお昼に届きました。",
        note="出荷担当が配達日指定を見落とし、通常便で出荷していた（当店のミス）。出荷指示書の指定日欄を目立つようにする。",
        dept="物流部",
        dept_request="配達日指定の出荷記録の確認",
        promise="出荷記録の確認結果と再発防止策をご連絡する",
        proposal="確認したところ、当店の出荷作業で配達日のご指定を見落としておりました。心よりお詫び申し上げます。お詫びとして、次回のお買い物に使えるクーポン1,000円分をお送りいたします。",
        accept=c.pick("事情は分かりました。次は気を付けてください。", "クーポンありがとうございます。仕方ないですね。"),
        solution="当店の出荷ミスを認めて謝罪。クーポン1,000円を付与。",
        landing="クーポン付与済み。物流部で出荷指示書の配達日指定欄を赤字表示に変更。",
        comp=(CompensationKind.COUPON, 1000, "配達日指定の見落とし（当店のミス）"),
        priority=Priority.HIGH,
    )


def wrong_item(c: Ctx) -> Story:
    return Story(
        subject=c.pick("注文と違う商品が届いた", "商品違い", "別の商品が入っていました"),
        complaint=_say(
            c,
            c.pick(
                f"{c.item.short}を注文したのですが、届いた箱には別の商品が入っていました。注文番号は{c.number}です。",
                f"本日商品を受け取りましたが、中身が注文した{c.item.short}ではありませんでした。納品書の品名は合っています。",
            ),
            c.pick(f"{c.item.short}頼んだのに違うものが入ってました😢", f"届いたの{c.item.short}じゃなかったです。交換できますか"),
        ),
        fact_product=c.item.short,
        what_happened=f"注文した{c.item.short}ではなく、別の商品が届いた。",
        when=f"{c.ordered}注文、到着時に開封して気付いた",
        reply="ご注文と異なる商品をお送りしてしまい、誠に申し訳ございません。",
        ask="お手数ですが、届いた商品の写真をお送りいただけますでしょうか。",
        answer="写真を送ります。箱に貼ってあるラベルも撮りました。",
        note="写真を確認。ピッキング時の取り違え。正しい商品を本日発送し、誤送品は着払いで回収する。",
        dept="物流部",
        dept_request="ピッキングミスの確認と正しい商品の出荷",
        promise="正しい商品の発送日と問い合わせ番号をお知らせする",
        proposal=f"正しい{c.item.short}を本日発送いたしました。誤ってお届けした商品は、同封の着払い伝票でご返送ください。",
        accept="わかりました。届いたら返送します。",
        solution="正しい商品を再送し、誤送品を着払いで回収。",
        landing="正しい商品の到着と誤送品の返送を確認する。",
        comp=(CompensationKind.REPLACEMENT, c.item.price, "誤送品の代わりに正しい商品を送付"),
    )


DEFECTS = {
    "ceramic": [
        ("届いた{s}が割れていました", "箱を開けたら{s}が割れていました。緩衝材は入っていましたが、ふちが大きく欠けています。",
         "{s}割れてたんですけど…", "到着時に{s}が破損（ふちが大きく欠けている）", "破損"),
        ("{s}にヒビが入っている", "届いた{s}の内側に細いヒビがあります。お湯を入れると少しにじんできます。",
         "{s}にヒビ入ってて水がにじむ", "内側にヒビ。お湯を入れるとにじむ", "ヒビ"),
    ],
    "textile": [
        ("{s}の糸がほつれてきた", "{s}を2回洗濯しただけで、端の縫い目がほつれてきました。",
         "{s}2回洗っただけでほつれたんだけど", "2回目の洗濯後に端の縫製がほつれた", "縫製不良"),
        ("{s}の色落ちで他の服に色が移った", "{s}を他の洗濯物と一緒に洗ったら、白いシャツが水色になってしまいました。",
         "{s}洗ったら他の服に色移りしました…", "洗濯で色落ちし、一緒に洗った白いシャツに色移り", "色落ち"),
    ],
    "kitchen": [
        ("{s}の内側に傷がある", "届いた{s}の内側に、最初から擦ったような傷がありました。",
         "{s}最初から傷ついてました", "到着時から内側に擦り傷", "初期傷"),
    ],
    "cosmetic": [
        ("{s}の容器から中身が漏れていた", "届いた{s}の容器のふたが緩んでいて、箱の中に中身が漏れていました。",
         "{s}漏れて箱がベタベタでした", "到着時に容器のふたが緩み中身が漏れていた", "液漏れ"),
        ("{s}を使ったら肌が荒れた", "{s}を使ったところ、翌朝から頬が赤くなり、かゆみが出ています。皮膚科を受診する予定です。",
         "{s}使ったら肌が赤くなってかゆい", "使用翌朝から頬に赤みとかゆみ。皮膚科受診予定", "肌トラブル"),
    ],
    "food": [
        ("ティーバッグが破れて茶葉が出てくる", "届いた{s}のティーバッグが何個か破れていて、湯のみに茶葉が出てきます。",
         "ティーバッグ破れてて茶葉出てくる", "ティーバッグの一部が破れ、茶葉が漏れる", "包装不良"),
    ],
}


# Problems only one product can have (a tumbler has no handle to come loose).
DEFECTS_BY_SKU = {
    "KB-KIT-002": [
        ("{s}の取っ手がぐらつく", "{s}を使い始めて1週間ほどで、取っ手がぐらぐらしてきました。危なくて使えません。",
         "{s}の取っ手がもうぐらぐらしてる", "使用1週間で取っ手が緩んだ", "取っ手の固定不良"),
    ],
    "KB-KIT-003": [
        ("{s}が保冷できない", "{s}に氷水を入れると、外側にびっしり水滴がついて、氷もすぐ溶けてしまいます。",
         "{s}、外側が結露してびしょびしょになる。保冷できてない気がする", "外側が結露し保冷できない（真空不良の疑い）", "真空不良"),
    ],
    "KB-KIT-001": [
        ("{s}の茶こしが本体に合わない", "{s}の茶こしが本体の口に合わず、斜めに浮いてしまいます。ふたも閉まりません。",
         "{s}の茶こしがはまらなくてふた閉まらない", "茶こしが本体に収まらず、ふたが閉まらない", "部品の寸法不良"),
    ],
    "KB-COS-003": [
        ("{s}が割れて届いた", "届いた{s}が真ん中から二つに割れていました。箱の角もつぶれていました。",
         "{s}が割れて届きました", "到着時に石けんが二つに割れていた（外箱の角につぶれ）", "破損"),
    ],
    "KB-KIT-005": [
        ("{s}に割れ目が入った", "{s}を普通に手洗いして乾かしていたら、端から10cmほど割れ目が入りました。",
         "{s}に割れ目入っちゃいました", "手洗い・自然乾燥で端から約10cmの割れ", "割れ"),
    ],
}


def defect(c: Ctx) -> Story:
    subject, polite, casual, happened, label = c.rng.choice(DEFECTS_BY_SKU.get(c.item.sku) or DEFECTS[c.item.kind])
    s = c.item.short
    skin = label == "肌トラブル"
    refund = skin or c.rng.random() < 0.3
    comp = (CompensationKind.REFUND, c.item.price, f"{label}のため代金を返金") if refund else (
        CompensationKind.REPLACEMENT, c.item.price, f"{label}のため交換品を送付")
    return Story(
        subject=subject.format(s=s),
        complaint=_say(c, polite.format(s=s) + (f"注文番号は{c.number}です。" if c.rng.random() < 0.7 else ""), casual.format(s=s)),
        fact_product=c.item.name,
        what_happened=happened.format(s=s),
        when=c.pick("商品到着日", "到着の翌日", "使い始めて数日後", f"{c.received_at.month}月{c.received_at.day}日ごろ"),
        reply=("お肌に異常が出たとのこと、大変ご心配をおかけしております。すぐにご使用を中止してください。" if skin
               else f"お届けした{s}に不具合があり、誠に申し訳ございません。"),
        ask=("恐れ入りますが、ご使用の製品の製造番号（容器の底に記載）と、症状の様子を教えていただけますでしょうか。" if skin
             else "お手数ですが、状態が分かる写真を1〜2枚お送りいただけますでしょうか。"),
        answer=("製造番号は 24K1107 です。赤みは少し引いてきました。" if skin else "写真を添付します。よろしくお願いします。"),
        note=("品質管理部へ製造ロットの確認を依頼。同ロットで他に申し出なし。全成分表をお客様に送付予定。" if skin
              else f"写真で{label}を確認。同じ入荷分の在庫を商品部で点検中。"),
        dept="品質管理部",
        dept_request=f"{s}の{label}について、ロットと在庫の点検",
        promise=("品質管理部の確認結果と全成分表をお送りする" if skin else "交換品の発送日をご連絡する"),
        proposal=(f"商品代金{c.item.price:,}円を全額返金いたします。商品のご返送は不要です。" if refund
                  else f"新しい{s}を本日発送いたしました。不具合のあった品は、お手数ですが同封の着払い伝票でご返送ください。"),
        accept=c.pick("ありがとうございます。よろしくお願いします。", "分かりました。", "迅速な対応ありがとうございます。"),
        solution=(f"代金{c.item.price:,}円を返金（返品不要）。" if refund else f"交換品（{s}）を送付、不良品は着払いで回収。"),
        landing=("返金手続き完了。品質管理部のロット調査結果を共有済み。" if refund else "交換品到着を確認。品質管理部が同ロット在庫を点検。"),
        comp=comp,
        priority=Priority.URGENT if skin else Priority.NORMAL,
    )


def misread(c: Ctx) -> Story:
    position, subject, thought, actual = c.rng.choice(c.item.misreadings)
    passage = c.item.passages[position - 1]
    quoted = passage.split("。")[0]  # on X only the first sentence fits
    coupon = c.rng.random() < 0.6
    return Story(
        subject=subject,
        complaint=_say(
            c,
            f"商品ページに「{passage}」と書いてあったので、{thought}のですが、{actual}んです。説明が分かりにくいと思います。",
            f"「{quoted}」って書いてあったから{thought}のに、{actual}。これって説明と違いませんか？",
        ),
        fact_product=c.item.name,
        what_happened=f"商品説明を読み{thought}が、{actual}。",
        when=c.pick("商品到着後", "使い始めてすぐ", "先週"),
        reply="商品ページの説明が分かりにくく、ご期待と違うお品物になってしまったこと、申し訳ございません。",
        ask="差し支えなければ、ご覧になったのはスマートフォンとパソコンのどちらか教えていただけますか。ページの表示を確認いたします。",
        answer=c.pick("スマホで見ました。", "パソコンです。写真を拡大して見ました。"),
        note=f"説明文「{passage}」がお客様に「{thought}」と読まれた。商品部に表現の見直しを依頼する。",
        dept="商品部",
        dept_request=f"{c.item.short}の商品説明の表現見直し",
        promise="商品部の見直し結果と返品方法をお知らせする",
        proposal="今回はご使用後でも返品を承ります。返品を希望されない場合は、お詫びとしてクーポン500円をお送りいたします。説明文は分かりやすく改めます。",
        accept="返品はせずに使います。クーポンありがとうございます。" if coupon else "それなら返品でお願いします。",
        solution="返品受付またはクーポン500円をご提案。" + (
            "お客様はクーポンを選択。" if coupon else f"お客様は返品を選択。返品到着後に代金{c.item.price:,}円を返金。"),
        landing="商品部が説明文を修正（修正後の文面を確認予定）。" + ("クーポン付与済み。" if coupon else "返品到着・返金済み。"),
        comp=(CompensationKind.COUPON, 500, "商品説明の分かりにくさへのお詫び") if coupon else (
            CompensationKind.REFUND, c.item.price, "商品説明と実物の違いによる返品"),
        passage=position,
    )


STORIES = {
    "delivery": [not_arrived, not_arrived, delivered_not_received, late_for_date, wrong_item],
    "defect": [defect],
    "description": [misread],
}
