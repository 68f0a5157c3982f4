"""Failures and successes of every sign-in path, counted where Django reports them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import lockout
from .clients import client_address


@receiver(user_login_failed, dispatch_uid="envadmin-count-login-failure")
def count_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get(get_user_model().USERNAME_FIELD)
    if request is None or not username:
        return
    if lockout.refusal_of(request):
        return  # refused by the lockout itself: no password was tried
    lockout.record_failure(username, client_address(request))


@receiver(user_logged_in, dispatch_uid="envadmin-clear-login-failures")
def clear_failures(sender, request, user, **kwargs):
    if request is not None:
        lockout.clear_failures(user.get_username(), client_address(request))
