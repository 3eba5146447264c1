from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "madoguchi.shop"
    label = "shop"
    verbose_name = "商品と注文"
