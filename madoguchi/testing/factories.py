"""factory_boy factories with realistic Japanese sample data, shared by every app's tests."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from madoguchi.accounts.models import Role, Team, User
from madoguchi.cases.models import Case, Category, Channel, Commitment, Interaction, InteractionKind
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.shop.models import Carrier, Order, Passage, Product

PASSWORD = "pass-窓口-2026"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"サポート{n}課")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    display_name = factory.Iterator(["佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健太", "伊藤 さくら"])
    role = Role.AGENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Iterator(["山田 太郎", "中村 由美", "小林 誠", "加藤 恵子", "渡辺 翔太🍀"])
    kana = factory.Iterator(["ヤマダ タロウ", "ナカムラ ユミ", "コバヤシ マコト", "カトウ ケイコ", "ワタナベ ショウタ"])


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    kind = IdentityKind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.jp")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Iterator(["有田焼 マグカップ 380ml", "今治タオル バスタオル 2枚組", "南部鉄器 急須 0.6L"])


class PassageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Passage

    product = factory.SubFactory(ProductFactory)
    position = factory.Sequence(lambda n: n + 1)
    text = "電子レンジ・食器洗い乾燥機に対応しています。"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"ORD-2026-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    ordered_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=5))
    shipped_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    carrier = Carrier.YAMATO
    tracking_number = factory.Sequence(lambda n: f"4{n:011d}")
    amount_yen = 5480


def category(code: str = "delivery") -> Category:
    return Category.objects.get(code=code)


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    subject = "商品がまだ届きません"
    channel = Channel.EMAIL
    category = factory.LazyFunction(category)
    customer = factory.SubFactory(CustomerFactory)
    received_at = factory.LazyFunction(timezone.now)
    complaint = "11月20日に注文した商品がまだ届きません。問い合わせ番号で調べても「荷物受付」のままです。"


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    case = factory.SubFactory(CaseFactory)
    kind = InteractionKind.INBOUND
    channel = Channel.EMAIL
    occurred_at = factory.LazyFunction(timezone.now)
    body = "お世話になっております。先日の件、その後いかがでしょうか。"


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    case = factory.SubFactory(CaseFactory)
    description = "物流部に確認し、折り返しお電話する"
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
