from django.urls import path

from . import docs, views

app_name = "api"

urlpatterns = [
    path("cases/", views.CaseList.as_view(), name="cases"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case"),
    path("cases/<int:pk>/events/", views.CaseEvents.as_view(), name="case_events"),
    path(
        "cases/<int:pk>/transitions/<slug:name>/",
        views.CaseTransition.as_view(),
        name="case_transition",
    ),
    path("cases/<int:pk>/notes/", views.CaseNotes.as_view(), name="case_notes"),
    path("cases/<int:pk>/documents/", views.CaseDocuments.as_view(), name="case_documents"),
    path(
        "cases/<int:pk>/documents/<int:document_pk>/",
        views.CaseDocumentDownload.as_view(),
        name="case_document",
    ),
    path("deadlines/", views.DeadlineList.as_view(), name="deadlines"),
    path("facilities/", views.FacilityList.as_view(), name="facilities"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(url_name="api:schema"), name="docs"),
]
