from retail.audit.models import AuditEntry


def audit_entries_for(*, subject) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(subject=str(subject)).order_by("created_at"))
