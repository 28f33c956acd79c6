"""Sign-in, sign-out and failed sign-in go to the audit trail; nothing else happens here."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import Action
from audit.services import audit_record, audit_sign_in_failed


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def on_sign_in(sender, request, user, **kwargs) -> None:
    audit_record(by=user, action=Action.SIGN_IN, target=f"user:{user.pk}", request=request)


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def on_sign_out(sender, request, user, **kwargs) -> None:
    audit_record(by=user, action=Action.SIGN_OUT, request=request)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def on_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    audit_sign_in_failed(username=str(credentials.get("username", "")), request=request)
