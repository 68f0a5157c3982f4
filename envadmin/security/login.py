"""The sign-in forms' side of the lockout (lockout.py): LockoutBackend refuses a locked sign-in
inside authenticate(); these show why, instead of "wrong password", and answer 429."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from . import lockout


class LockoutMessageMixin:
    def get_invalid_login_error(self):
        refused = lockout.refusal_of(self.request)
        if refused:
            return ValidationError(refused, code="locked")
        return super().get_invalid_login_error()


class LockoutAuthenticationForm(LockoutMessageMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass


class ThrottledLoginView(auth_views.LoginView):
    """Django's LoginView; a locked username or address gets 429 and the lockout's message."""

    form_class = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        refused = lockout.refusal_of(self.request)
        if refused:
            context = self.get_context_data(form=form, throttled=refused)
            return self.render_to_response(context, status=429)
        return super().form_invalid(form)


def admin_login(request, extra_context=None):
    """Django admin's own login (its form shows the lockout's message), answering 429 too."""
    response = admin.site.login(request, extra_context)
    if lockout.refusal_of(request):
        response.status_code = 429
    return response
