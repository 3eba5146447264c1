import pytest


@pytest.fixture(autouse=True)
def _chat_settings(settings):
    settings.MADOGUCHI_CHAT_ALLOWED_ORIGINS = ["http://shop.example.jp"]
    settings.MADOGUCHI_CHAT_BUSINESS_HOURS = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "madoguchi.chat.layers.InMemoryLayer"}}
