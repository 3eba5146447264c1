
import django.core.validators
from django.db import migrations, models


def mark_existing_surveys_sent(apps, schema_editor):
    """Surveys made before the delay were sent (or shown) at once, on resolution."""
    Survey = apps.get_model("metrics", "Survey")
    Survey.objects.update(state="sent")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0002_default_categories'),
        ('metrics', '0004_rollup_cells'),
    ]

    operations = [
        migrations.CreateModel(
            name='SurveyOptions',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('delay_hours', models.PositiveIntegerField(default=24, validators=[django.core.validators.MaxValueValidator(336)], verbose_name='解決からアンケート送信までの時間（時間）')),
            ],
            options={
                'verbose_name': 'アンケートの設定',
                'verbose_name_plural': 'アンケートの設定',
            },
        ),
        migrations.AddField(
            model_name='survey',
            name='channel',
            field=models.CharField(blank=True, max_length=10, verbose_name='送った手段'),
        ),
        migrations.AddField(
            model_name='survey',
            name='due_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='送信予定'),
        ),
        migrations.AddField(
            model_name='survey',
            name='state',
            field=models.CharField(choices=[('waiting', '送信待ち'), ('sent', '送信済み'), ('not_deliverable', '届ける手段なし')], default='waiting', max_length=20, verbose_name='状態'),
        ),
        migrations.AlterField(
            model_name='survey',
            name='expires_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='survey',
            name='sent_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_existing_surveys_sent, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='survey',
            index=models.Index(condition=models.Q(('state', 'waiting')), fields=['due_at'], name='survey_waiting_due'),
        ),
    ]
