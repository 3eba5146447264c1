from django.apps import AppConfig


class ShopSettingsConfig(AppConfig):
    name = "madoguchi.shopsettings"
    label = "shopsettings"
    verbose_name = "店舗の設定"
