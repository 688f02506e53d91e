from django.urls import path

from cloud.sync.views import SyncEnrollApi, SyncPullApi, SyncPushApi, SyncSnapshotApi

urlpatterns = [
    path("enroll", SyncEnrollApi.as_view(), name="sync-enroll"),
    path("push", SyncPushApi.as_view(), name="sync-push"),
    path("pull", SyncPullApi.as_view(), name="sync-pull"),
    path("snapshot", SyncSnapshotApi.as_view(), name="sync-snapshot"),
]
