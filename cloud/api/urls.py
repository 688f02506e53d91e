from django.urls import path

from cloud.api import views

urlpatterns = [
    path("products", views.ProductListApi.as_view(), name="products"),
    path("products/<str:sku>", views.ProductDetailApi.as_view(), name="product"),
    path(
        "products/<str:sku>/availability", views.ProductAvailabilityApi.as_view(), name="product-availability"
    ),
    path("members", views.MemberRegisterApi.as_view(), name="member-register"),
    path("members/lookup", views.MemberLookupApi.as_view(), name="member-lookup"),
    path("members/<str:number>", views.MemberDetailApi.as_view(), name="member"),
    path("members/<str:number>/ledger", views.MemberLedgerApi.as_view(), name="member-ledger"),
    path("members/<str:number>/points/earn", views.MemberPointsEarnApi.as_view(), name="member-points-earn"),
    path(
        "members/<str:number>/points/redeem",
        views.MemberPointsRedeemApi.as_view(),
        name="member-points-redeem",
    ),
    path("orders", views.OrderPlaceApi.as_view(), name="order-place"),
    path("orders/<str:number>", views.OrderDetailApi.as_view(), name="order"),
    path("orders/<str:number>/cancel", views.OrderCancelApi.as_view(), name="order-cancel"),
]
