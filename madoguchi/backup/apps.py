from django.apps import AppConfig


class BackupConfig(AppConfig):
    """Backups of everything the desk keeps (database, attachments, secret key) and restoring
    them: `madoguchi backup`, `madoguchi restore`, and a daily backup with retention."""

    name = "madoguchi.backup"
    label = "backup"
    verbose_name = "バックアップ"
