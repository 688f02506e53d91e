from django.urls import path

from pos_ui.views import common, handheld

app_name = "pos_ui"

urlpatterns = [
    path("", common.home, name="home"),
    path("h/", handheld.lookup, name="handheld_lookup"),
    path("h/count/", handheld.count, name="handheld_count"),
    path("h/count/add", handheld.count_add, name="handheld_count_add"),
    path("h/count/review", handheld.count_review, name="handheld_count_review"),
    path("h/count/remove/<uuid:product_id>", handheld.count_remove, name="handheld_count_remove"),
    path("h/count/post", handheld.count_post, name="handheld_count_post"),
]
