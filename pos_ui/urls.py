from django.urls import path

from pos_ui import views

app_name = "pos_ui"

urlpatterns = [
    path("", views.home, name="home"),
]
