from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from haven.admin import person_column, text_column

from . import mfa, sessions
from .models import SecurityEvent, Unit, User

# django-otp's own device admins show each authenticator's secret and let anyone with the
# permission add devices for others; here devices are only reset (with a reason), from the
# user list, and every reset is a SecurityEvent. Passkeys likewise (django-otp-webauthn's
# admin would let a staff member delete one without a record).
for _model in (TOTPDevice, StaticDevice, WebAuthnCredential):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", person_column(Unit, "duty_officer"))
    search_fields = ("name",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The duty officer is chosen among the unit's active members (none before the unit
        exists)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        if "duty_officer" in form.base_fields:
            members = User.objects.filter(unit=obj, is_active=True) if obj else User.objects.none()
            form.base_fields["duty_officer"].queryset = members.order_by("username")
        return form

    def has_delete_permission(self, request, obj=None) -> bool:
        # Units own cases and users (protected in the database); rename rather than delete.
        return request.user.is_superuser


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "first_name",
        "last_name",
        text_column(User, "unit"),
        "is_active",
        "is_staff",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "groups", "unit")
    list_select_related = ("unit",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Office"), {"fields": ("unit",)}),
        (_("Preferences"), {"fields": ("language",)}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Office and role"), {"fields": ("unit", "groups")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser grants superuser status or individual permissions.
        if request.user.is_superuser:
            return ()
        return ("is_superuser", "user_permissions", "last_login", "date_joined")

    def has_delete_permission(self, request, obj=None) -> bool:
        # People who acted on cases stay referenced by the timeline: deactivate instead.
        return False

    actions = ["reset_second_factor", "end_all_sessions"]

    @admin.action(
        description=_("Reset the second factor of the selected users"),
        permissions=["change"],
    )
    def reset_second_factor(self, request, queryset):
        """Removes their authenticator and recovery codes (a lost or changed phone): at their
        next sign-in they set it up again. Asks for the reason first."""
        return self._with_reason(
            request,
            queryset,
            action="reset_second_factor",
            title=_("Reset the second factor"),
            explanation=_(
                "Their authenticator app and recovery codes stop working; at their next "
                "sign-in they are led to set up a new one. The reset and its reason are "
                "recorded."
            ),
            apply=lambda user, reason: mfa.reset_devices(
                user, actor=request.user, reason=reason, request=request
            ),
            done=lambda n: ngettext(
                "The second factor of %(n)d user was reset.",
                "The second factor of %(n)d users was reset.",
                n,
            ),
        )

    @admin.action(description=_("End all sessions of the selected users"), permissions=["change"])
    def end_all_sessions(self, request, queryset):
        """Signs them out everywhere (a leaver, a lost phone). Asks for the reason first."""
        return self._with_reason(
            request,
            queryset,
            action="end_all_sessions",
            title=_("End all sessions"),
            explanation=_(
                "They are signed out on every device at their next request. This and its "
                "reason are recorded."
            ),
            apply=lambda user, reason: sessions.end_all_sessions(
                user, actor=request.user, reason=reason, request=request
            ),
            done=lambda n: ngettext(
                "All sessions of %(n)d user were ended.",
                "All sessions of %(n)d users were ended.",
                n,
            ),
        )

    def _with_reason(self, request, queryset, *, action, title, explanation, apply, done):
        if not request.user.is_superuser:
            queryset = queryset.filter(is_superuser=False)  # a superuser's are a superuser's
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            count = 0
            for user in queryset.order_by("pk"):
                try:
                    apply(user, form.cleaned_data["reason"])
                except ValidationError as exc:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)
                    return None
                count += 1
            self.message_user(request, done(count) % {"n": count}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "form": form,
            "users": list(queryset.order_by("username")),
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/user/action_with_reason.html", context)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with the change, for example “lost phone, ticket 4711”."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason."))
        return reason


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Second-factor and session events: read-only, for administrators."""

    list_display = (
        "at",
        person_column(SecurityEvent, "user"),
        "kind",
        person_column(SecurityEvent, "actor"),
        "ip",
        text_column(SecurityEvent, "reason", length=60),
    )
    list_filter = ("kind",)
    list_select_related = ("user", "actor")
    search_fields = ("user__username",)
    date_hierarchy = "at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or user.is_administrator)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
