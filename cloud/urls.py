from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cloud.headoffice.views import HealthApi

admin.site.site_header = "Omnitill head office"
admin.site.site_title = "Omnitill head office"
admin.site.index_title = "Chain administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health", HealthApi.as_view(), name="health"),
    path("api/v1/", include(("cloud.api.urls", "omni_api"))),
    path("api/sync/v1/", include("cloud.sync.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
