from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import include, path

from envadmin.security.login import ThrottledLoginView

handler400 = "envadmin.api.errors.bad_request"
handler500 = "envadmin.api.errors.server_error"


def home(request):
    return redirect("environments:list")


urlpatterns = [
    path("", home, name="home"),
    path("login", ThrottledLoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("envadmin.ui.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("envadmin.api.urls")),
]
