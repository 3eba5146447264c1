from django import forms
from django.utils.translation import gettext_lazy as _


class OrderFileForm(forms.Form):
    file = forms.FileField(label=_("注文ファイル（CSV）"),
                           help_text=_("Shopify の注文エクスポート、BASE の注文CSV、または汎用形式の CSV（UTF-8 または Shift_JIS）。"))
