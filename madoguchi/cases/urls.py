from django.urls import path

from madoguchi.cases import views, views_inbox_tools

app_name = "cases"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cases/new/", views.case_new, name="new"),
    path("cases/<int:pk>/", views.case_detail, name="detail"),
    path("cases/<int:pk>/parts/<slug:part>/", views.case_part, name="part"),
    path("cases/<int:pk>/edit/", views.case_edit, name="edit"),
    path("cases/<int:pk>/interactions/", views.case_interaction, name="interaction"),
    path("cases/<int:pk>/reply/", views.case_reply, name="reply"),
    path("cases/<int:pk>/handover/", views.case_handover, name="handover"),
    path("cases/<int:pk>/take/", views.case_take, name="take"),
    path("cases/<int:pk>/commitments/", views.commitment_add, name="commitment_add"),
    path("cases/<int:pk>/commitments/<int:commitment_id>/close/", views.commitment_close, name="commitment_close"),
    path("cases/<int:pk>/compensations/", views.compensation_add, name="compensation_add"),
    path("cases/<int:pk>/merge/", views.case_merge, name="merge"),
    path("cases/merges/<int:record_id>/undo/", views.merge_undo, name="merge_undo"),
    path("cases/<int:pk>/links/", views.case_link, name="link"),
    path("cases/<int:pk>/links/<int:link_id>/remove/", views.case_unlink, name="unlink"),
    path("cases/<int:pk>/tags/", views_inbox_tools.case_tag, name="tag"),
    path("cases/<int:pk>/tags/<int:tag_id>/remove/", views_inbox_tools.case_untag, name="untag"),
    path("cases/<int:pk>/fields/", views_inbox_tools.case_fields, name="fields"),
    path("cases/bulk/", views_inbox_tools.bulk_action, name="bulk"),
    path("views/", views_inbox_tools.view_save, name="view_save"),
    path("views/<int:view_id>/delete/", views_inbox_tools.view_delete, name="view_delete"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:compensation_id>/", views.compensation_decide, name="compensation_decide"),
]
