"""The demo's social listening queue: about fifty posts on X and Instagram over the last days, of
every kind (complaints, questions, requests, praise and noise), read by the desk's reader through
the writer the file import uses, a burst of complaints about one towel in the last hour (a spike),
and a few already handled: answered, turned into a case, dismissed."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from madoguchi.accounts.models import User
from madoguchi.listening import services, spikes
from madoguchi.listening.importer import write_posts
from madoguchi.listening.models import ListeningPost
from madoguchi.listening.posts import ParsedPost

COMPLAINTS = [
    "こもれび堂で買った土鍋、IHで使えなかった…説明ちゃんと読めばよかったけど分かりにくい",
    "こもれび堂の発送連絡から5日たつのに荷物が届かない。問い合わせても返事が遅い",
    "こもれび堂のマグカップ、届いたら持ち手が欠けてた。ショック",
    "こもれび堂の定期便、解約したはずなのにまた届いたんだけど",
    "こもれび堂の化粧水、使ったら少しヒリヒリした。肌に合わなかったのかな",
    "こもれび堂さんの鉄フライパン、一回洗っただけで錆びた。油ならし済みって書いてあったのに",
    "こもれび堂の梱包、箱が潰れて届いた。中身は無事だったけど贈り物だったので残念",
]
SPIKE = [  # the last hour: the same towel, over and over
    "こもれび堂の今治タオル バスタオル、洗ったら色落ちしてほかの洗濯物が青くなった…",
    "今治タオル バスタオル（こもれび堂）一回洗っただけで色が抜けた。ひどい",
    "こもれび堂で買った今治タオル バスタオル、色落ちがすごい。同じ人いる？",
    "今治タオル バスタオルの色落ち、私だけじゃなかったんだ。こもれび堂さん対応してほしい",
    "こもれび堂の今治タオル バスタオル、白いシャツに色移りした。最悪",
    "今治タオル バスタオル 色落ちの件、こもれび堂に問い合わせ中。返品できるのかな",
    "こもれび堂の今治タオル バスタオル、初回の洗濯で水が真っ青に。不良品では",
]
QUESTIONS = [
    "こもれび堂の土鍋ってIHでも使えますか？",
    "こもれび堂のギフトセット、のしは付けてもらえますか？",
    "こもれび堂って土日も発送してますか？",
    "こもれび堂の急須、食洗機で洗っても大丈夫？",
    "こもれび堂の定期便はいつでも解約できますか？",
    "こもれび堂のハンドクリーム、香りはどのくらい強いですか？",
    "こもれび堂の実店舗って吉祥寺のどのあたりですか？",
    "こもれび堂のタンブラー、炭酸は入れても平気？",
]
REQUESTS = [
    "こもれび堂さん、マグカップの色違いを出してほしいです！",
    "こもれび堂のタオル、もう少し大きいサイズも作ってほしい",
    "こもれび堂さん、ラッピングの種類を増やしてもらえたら嬉しいです",
    "こもれび堂の定期便、2か月に1回も選べるようにしてほしい",
    "こもれび堂さん、後払い決済に対応してくれないかな",
    "こもれび堂の保存容器、Lサイズも販売してください",
]
PRAISE = [
    "こもれび堂で買った有田焼のマグカップ、毎朝使ってます。手になじんで最高",
    "こもれび堂の今治ガーゼのフェイスタオル、ふわふわで気持ちいい！",
    "こもれび堂さん、問い合わせへの返事がとても丁寧で感動した",
    "こもれび堂の急須、お茶がおいしく入る。買ってよかった",
    "こもれび堂で母の日のギフトを頼んだら、母がとても喜んでくれました",
    "こもれび堂のほうじ茶の定期便、香りがよくて毎月楽しみ",
    "こもれび堂のカッティングボード、木の香りがいい。大事に使います",
    "こもれび堂さんの梱包がいつもきれいで好き",
    "こもれび堂のハンドクリーム、柚子の香りに癒やされる",
    "こもれび堂の取り皿セット、色がかわいくて食卓が明るくなった",
]
NOISE = [
    "今日は吉祥寺でランチ。こもれび日和だった",
    "木漏れ日がきれいな公園でお散歩",
    "こもれび堂の近くのカフェ、新メニューおいしかった",
    "#こもれび 写真部 今日の一枚",
    "フォロバします！",
    "こもれびっていう言葉、好きだなあ",
    "【プレゼント企画】フォロー＆RTで豪華賞品が当たる！",
    "週末は雨らしい",
]
HANDLES = ["mika_cafe", "tanuki_84", "yuu_home", "kurashi_note", "aoi_days", "hiro_camp", "saku_ra", "nao_kitchen",
           "momo_0312", "kei_blue", "rina_life", "shun_tea", "haru_zakka", "ken_outdoor", "emi_photo", "taka_gadget"]
NAMES = ["みか", "たぬき", "ゆう", "くらしノート", "あおい", "ひろ", "さくら", "なお", "もも", "けい", "りな", "しゅん",
         "はる", "けん", "えみ", "たか"]


def load_posts(rng: random.Random, users: dict[str, User]) -> dict[str, int]:
    now = timezone.now()
    posts: list[ParsedPost] = []
    texts = [(t, rng.uniform(2, 24 * 6)) for t in COMPLAINTS + QUESTIONS + REQUESTS + PRAISE + NOISE]
    texts += [(t, rng.uniform(0.05, 0.95)) for t in SPIKE]
    for n, (text, hours_ago) in enumerate(texts, start=1):
        at = now - dt.timedelta(hours=hours_ago)
        instagram = n % 6 == 0
        handle = rng.choice(HANDLES)
        post_id = f"{18_700_000_000_000_000 + n * 7919}" if not instagram else f"C{n:04d}komorebi"
        url = (f"https://www.instagram.com/p/{post_id}/" if instagram else f"https://x.com/{handle}/status/{post_id}")
        posts.append(ParsedPost(line=n, platform="instagram" if instagram else "x", post_id=post_id,
                                author_handle=handle, author_name=NAMES[HANDLES.index(handle)], text=text,
                                posted_at=at, url=url, raw={"id": post_id, "text": text, "source": "demo"}))
    summary = write_posts(posts)
    found = spikes.check_spikes(now)
    handled = _handle(rng, users)
    return {"posts": summary.created, "post_spikes": len(found), **handled}


def _handle(rng: random.Random, users: dict[str, User]) -> dict[str, int]:
    """A few posts already dealt with by the team: answered on the platform, turned into a case,
    dismissed (a question answered, a complaint taken in, noise cleared)."""
    older = ListeningPost.objects.filter(posted_at__lt=timezone.now() - dt.timedelta(hours=3)).order_by("posted_at", "id")
    answered = turned = dismissed = 0
    for post in older.filter(kind="question")[:3]:
        services.do_mark_answered(post.pk, user=users["suzuki"], note="公式アカウントからリプライでご案内済み。",
                                  reply_url=f"https://x.com/komorebido/status/{int(post.post_id) + 1}" if post.post_id.isdigit() else "")
        answered += 1
    for post in older.filter(kind="complaint", platform="x")[:1]:
        services.do_turn_into_case(post.pk, user=users["tanaka"])
        turned += 1
    for post in older.filter(kind="noise")[:2]:
        services.do_dismiss(post.pk, user=users["sato"], note="当店と関係のない投稿")
        dismissed += 1
    return {"answered": answered, "turned": turned, "dismissed": dismissed}
