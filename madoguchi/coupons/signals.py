"""`coupon_issued`: a coupon was granted (within the agent's authority at once, or when a lead
approved it). A shop-platform app (Shopify: discount codes by API) receives it and creates the
code on the platform; the desk never imports such an app.

kwargs: coupon (coupons.models.Coupon, with .compensation and .compensation.case loaded),
        actor (the user who granted it: the agent, or the approving lead).

Sent inside the transaction that grants the coupon, so a receiver must not call out: it defers
its work (`madoguchi.jobs.work.defer`, done by the worker after the commit, retried if it
fails) and reports the outcome with `coupons.services.do_record_platform_result`, which the
case and customer pages show (作成済み / 作成に失敗); while it waits it may say so with
`coupons.services.do_mark_platform_pending` (作成待ち).

`coupon_platform_retry`: an agent asked, from the case page, to create a coupon whose creation
on the platform failed once more (kwargs: coupon, actor; sent inside the transaction that marks
it 作成待ち again). The platform app does what it does for `coupon_issued`, and never creates a
second code for one coupon.
"""

from django.dispatch import Signal

coupon_issued = Signal()
coupon_platform_retry = Signal()
