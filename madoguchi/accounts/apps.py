from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "madoguchi.accounts"
    label = "accounts"
    verbose_name = "利用者とチーム"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_save, pre_save

        from madoguchi.accounts import access_log
        from madoguchi.accounts.login import AdminLoginForm, record_failed_login
        from madoguchi.accounts.models import User

        user_login_failed.connect(record_failed_login, dispatch_uid="madoguchi-login-failed")
        user_login_failed.connect(access_log.login_failed, dispatch_uid="madoguchi-access-login-failed")
        user_logged_in.connect(access_log.logged_in, dispatch_uid="madoguchi-access-login")
        user_logged_out.connect(access_log.logged_out, dispatch_uid="madoguchi-access-logout")
        pre_save.connect(access_log.user_pre_save, sender=User, dispatch_uid="madoguchi-access-user-before")
        post_save.connect(access_log.user_post_save, sender=User, dispatch_uid="madoguchi-access-user-after")
        admin.site.login_form = AdminLoginForm
        # django-otp's own admin pages would show the secrets of the authenticator apps and let
        # anyone with admin access add one to another person: devices are managed on
        # /settings/me/2fa/ only (accounts/two_factor.py).
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for model in (TOTPDevice, StaticDevice):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
