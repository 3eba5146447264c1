from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "madoguchi.accounts"
    label = "accounts"
    verbose_name = "利用者とチーム"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth.signals import user_login_failed

        from madoguchi.accounts.login import AdminLoginForm, record_failed_login

        user_login_failed.connect(record_failed_login, dispatch_uid="madoguchi-login-failed")
        admin.site.login_form = AdminLoginForm
