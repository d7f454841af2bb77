from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Unit, User


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "duty_officer")
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
    list_display = ("username", "first_name", "last_name", "unit", "is_active", "is_staff")
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
