"""Cases opened before every case got a team on arrival (mail, chat, forms) had none, and a lead of
any team could decide their compensation requests. As a new case does, each gets its assignee's
team, or, if nobody has it, the shop's first team (lowest id); a case of an assignee who belongs to
no team keeps none (the admins decide). Two UPDATE statements, whatever the number of cases."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def give_teams(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Team = apps.get_model("accounts", "Team")
    User = apps.get_model("accounts", "User")
    assignee_team = User.objects.filter(pk=OuterRef("assignee_id"), team__isnull=False).values("team_id")[:1]
    Case.objects.filter(team__isnull=True, assignee__team__isnull=False).update(team_id=Subquery(assignee_team))
    first = Team.objects.order_by("id").values_list("id", flat=True).first()
    if first is not None:
        Case.objects.filter(team__isnull=True, assignee__isnull=True).update(team_id=first)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_compensation_policy"),
        ("cases", "0003_case_unread_by_assignee"),
    ]

    operations = [
        migrations.RunPython(give_teams, migrations.RunPython.noop, elidable=True),
    ]
