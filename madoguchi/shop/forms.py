from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.shop.models import Carrier, CarrierSite, Order, OrderItem, Passage, Region


class OrderFileForm(forms.Form):
    file = forms.FileField(label=_("注文ファイル（CSV）"),
                           help_text=_("Shopify の注文エクスポート、BASE の注文CSV、または汎用形式の CSV（UTF-8 または Shift_JIS）。"))


class OrderLookupForm(forms.Form):
    q = forms.CharField(label=_("注文番号・お名前・電話番号・メールアドレス・問い合わせ番号"), max_length=200, required=False)


class ItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name or obj.product or obj.sku} × {obj.quantity}"


class PassageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.product.name} §{obj.position}: {obj.text[:80]}"


class OrderLinkForm(forms.Form):
    """Point a case at an order: its lines, the misread passage and how the customer read it."""

    items = ItemChoiceField(label=_("対象の明細"), queryset=OrderItem.objects.none(), required=False,
                            widget=forms.CheckboxSelectMultiple)
    passage = PassageChoiceField(label=_("誤解された説明文"), queryset=Passage.objects.none(), required=False,
                                 empty_label=_("（なし）"), widget=forms.RadioSelect)
    understood_as = forms.CharField(label=_("お客様の受け取り方"), max_length=5000, required=False,
                                    widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text=_("説明文をお客様がどう読んだか（例：「木箱入り」を贈答用の化粧箱だと思った）"))
    confirm_other = forms.BooleanField(label=_("別のお客様の注文であることを確認しました"), required=False)

    def __init__(self, *args: Any, order: Order, other_customer: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.other_customer = other_customer
        items = self.fields["items"]
        passage = self.fields["passage"]
        assert isinstance(items, ItemChoiceField) and isinstance(passage, PassageChoiceField)
        items.queryset = OrderItem.objects.filter(order=order).select_related("product").order_by("pk")
        products = OrderItem.objects.filter(order=order, product__isnull=False).values("product_id")
        passage.queryset = (Passage.objects.filter(product_id__in=products).select_related("product")
                                           .order_by("product__name", "position"))
        if not other_customer:
            del self.fields["confirm_other"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.other_customer and not data.get("confirm_other"):
            self.add_error("confirm_other", _("別のお客様の注文です。間違いないことを確かめてからチェックを入れてください。"))
        return data


class CarrierSiteForm(forms.ModelForm):
    url_pattern = forms.URLField(label=_("追跡ページのURL"), max_length=500, assume_scheme="https",
                                 help_text=CarrierSite._meta.get_field("url_pattern").help_text)

    class Meta:
        model = CarrierSite
        fields = ["code", "name", "url_pattern"]

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].lower()
        if code in Carrier.values:
            raise forms.ValidationError(_("このコードは組み込みの配送業者が使っています。別のコードにしてください。"))
        return code

    def clean_url_pattern(self) -> str:
        pattern: str = self.cleaned_data["url_pattern"]
        if "{number}" not in pattern:
            raise forms.ValidationError(_("問い合わせ番号が入る所に {number} と書いてください。"))
        if not pattern.startswith(("https://", "http://")):
            raise forms.ValidationError(_("https:// で始まるURLを入力してください。"))
        return pattern


def carrier_choices() -> list[tuple[str, str]]:
    built_in = [(value, str(label)) for value, label in Carrier.choices if value != Carrier.OTHER]
    return built_in + [(site.code, site.name) for site in CarrierSite.objects.order_by("name")]


class DeliveryDaysForm(forms.Form):
    carrier = forms.ChoiceField(label=_("配送業者"))
    region = forms.ChoiceField(label=_("地域"), required=False, choices=[("", _("すべての地域（個別に決めていない地域）")), *Region.choices])
    days = forms.IntegerField(label=_("通常の日数"), min_value=1, max_value=60,
                              help_text=_("発送からこの日数を過ぎても配達されていない注文を「配送の見守り」に出します。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        carrier = self.fields["carrier"]
        assert isinstance(carrier, forms.ChoiceField)
        carrier.choices = carrier_choices()
