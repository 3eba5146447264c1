from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import User
from madoguchi.cases.models import Category
from madoguchi.knowledge.models import Article, Rule
from madoguchi.patterns.models import Cluster
from madoguchi.patterns.services import describe
from madoguchi.prevention.models import Cause, Countermeasure
from madoguchi.shop.models import Carrier, CarrierSite, Passage, Product


class RootCauseForm(forms.Form):
    cause = forms.ChoiceField(label=_("根本原因"), required=False, choices=[("", _("（未記録）")), *Cause.choices])
    note = forms.CharField(label=_("原因の説明"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"max_length": _("原因の説明は2000文字以内にしてください。")})


class PassageChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        text = obj.text if len(obj.text) <= 40 else obj.text[:40] + "…"
        return f"{obj.product.name}: {text}"


def carrier_choices() -> list[tuple[str, str]]:
    sites = [(site.code, site.name) for site in CarrierSite.objects.order_by("name")]
    return [("", "---------"), *[(value, str(label)) for value, label in Carrier.choices], *sites]


class ClusterChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"#{obj.pk} {describe(obj)}"


class CountermeasureForm(forms.ModelForm):  # type: ignore[type-arg]
    cluster = ClusterChoice(label=_("苦情のまとまり"), required=False,
                            queryset=Cluster.objects.select_related("category", "product", "passage__product").order_by("-recent", "-id"),
                            help_text=_("選ぶと、このまとまりの案件で効果を確かめます（下の分類・商品などは、変えたものの記録になります）。"))
    passage = PassageChoice(label=_("商品説明の箇所"), required=False,
                            queryset=Passage.objects.filter(valid_to__isnull=True).select_related("product")
                            .order_by("product__name", "position"))
    carrier = forms.ChoiceField(label=_("配送業者"), required=False, choices=())

    class Meta:
        model = Countermeasure
        fields = ["title", "cluster", "cause", "cause_note", "detail", "done_by", "done_on", "window_days",
                  "category", "product", "passage", "carrier", "rule", "article"]
        widgets = {
            "done_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "detail": forms.Textarea(attrs={"rows": 4}),
            "cause_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "title": _("例: 〇〇運輸の置き配をやめ、対面受け取りに変更"),
            "done_on": _("この日の前と後で、同じ長さの期間の発生率を比べます。"),
            "category": _("まとまりを選ばないときは、分類・商品・商品説明の箇所・配送業者のうち選んだものすべてに当てはまる案件が、効果の確認の対象です。"),
        }
        error_messages = {
            "title": {"required": _("変えたことを入力してください。")},
            "cause": {"required": _("根本原因を選んでください。")},
            "done_on": {"required": _("実施日を入力してください。"), "invalid": _("実施日は 2026-12-01 のように入力してください。")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.passage_id:  # a passage since rewritten stays choosable on its countermeasure
            self.fields["passage"].queryset = Passage.objects.filter(  # type: ignore[attr-defined]
                Q(valid_to__isnull=True) | Q(pk=self.instance.passage_id)).select_related("product").order_by("product__name", "position")
        self.fields["carrier"].choices = carrier_choices()  # type: ignore[attr-defined]
        self.fields["done_by"].queryset = User.objects.filter(is_active=True).order_by("display_name", "username")  # type: ignore[attr-defined]
        self.fields["category"].queryset = Category.objects.filter(active=True)  # type: ignore[attr-defined]
        self.fields["product"].queryset = Product.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["rule"].queryset = Rule.objects.order_by("title")  # type: ignore[attr-defined]
        self.fields["article"].queryset = Article.objects.order_by("title")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        passage, product = data.get("passage"), data.get("product")
        if passage is not None and product is not None and passage.product_id != product.pk:
            self.add_error("passage", _("商品説明の箇所は、選んだ商品のものを選んでください。"))
        return data
