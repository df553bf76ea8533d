"""The API's URLs under /api/: collections, the council, the schema and its docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from stageplay.api import views

app_name = "api"

router = SimpleRouter()
router.register("characters", views.CharacterViewSet, basename="character")
router.register("scenes", views.SceneViewSet, basename="scene")
router.register("performances", views.PerformanceViewSet, basename="performance")

urlpatterns = [
    path("", views.api_root, name="root"),
    path("council/", views.CouncilView.as_view(), name="council"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    *router.urls,
]
