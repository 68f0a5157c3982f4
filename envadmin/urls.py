from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import include, path

from envadmin.database_outage import needs_database
from envadmin.security.login import LockoutAdminAuthenticationForm, ThrottledLoginView, admin_login

handler400 = "envadmin.api.errors.bad_request"
handler500 = "envadmin.api.errors.server_error"
# Django admin's login shares the sign-in lockout (envadmin/security/lockout.py): its form shows
# the lockout's message and admin_login answers 429, like /login.
admin.site.login_form = LockoutAdminAuthenticationForm


def home(request):
    return redirect("environments:list")


urlpatterns = [
    path("", home, name="home"),
    path("login", needs_database(ThrottledLoginView.as_view()), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("envadmin.ui.urls")),
    # Before admin.site.urls: it replaces admin's route.
    path("admin/login/", needs_database(admin_login)),
    path("admin/", admin.site.urls),
    path("api/", include("envadmin.api.urls")),
]
