from django.urls import path

from madoguchi.shopsettings import chat, departments, hours, line, password, sla, users

app_name = "shopsettings"
urlpatterns = [
    path("hours/", hours.hours_page, name="hours"),
    path("hours/weekly/", hours.save_weekly, name="save_weekly"),
    path("hours/closed/", hours.add_closed, name="add_closed"),
    path("hours/closed/<int:pk>/delete/", hours.delete_closed, name="delete_closed"),
    path("sla/", sla.sla_list, name="sla"),
    path("sla/new/", sla.sla_edit, name="sla_new"),
    path("sla/<int:pk>/", sla.sla_edit, name="sla_edit"),
    path("sla/<int:pk>/delete/", sla.sla_delete, name="sla_delete"),
    path("chat/", chat.chat_page, name="chat"),
    path("departments/", departments.departments_page, name="departments"),
    path("departments/<int:pk>/", departments.department_edit, name="department_edit"),
    path("departments/<int:pk>/delete/", departments.department_delete, name="department_delete"),
    path("line/", line.line_page, name="line"),
    path("line/<int:pk>/", line.line_edit, name="line_edit"),
    path("line/quota/", line.line_quota, name="line_quota"),
    path("users/", users.users_page, name="users"),
    path("users/invite/", users.invite, name="invite"),
    path("users/teams/", users.add_team, name="add_team"),
    path("users/teams/<int:pk>/", users.team_edit, name="team_edit"),
    path("users/<int:pk>/", users.user_edit, name="user_edit"),
    path("users/<int:pk>/active/", users.set_active, name="set_active"),
    path("users/<int:pk>/password-link/", users.send_password_link, name="password_link"),
    path("password/<str:uidb64>/<str:token>/", password.set_password, name="password"),
]
