from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from store_node.node.views import HealthApi

admin.site.site_header = "Omnitill store node"
admin.site.site_title = "Omnitill store"

urlpatterns = [
    path("api/checkout/", include("store_node.checkout.api.urls")),  # first: the tills' every request
    path("admin/", admin.site.urls),
    path("api/health", HealthApi.as_view(), name="health"),
    path("api/devices/", include("store_node.devices.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("pos_ui.urls")),
]
