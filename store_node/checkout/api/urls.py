from django.urls import path

from store_node.checkout.api import views as v
from store_node.orders import api as orders

urlpatterns = [
    # The till's hot paths first (URL resolution tries the patterns in order).
    path("sales/<uuid:sale_id>/lines", v.SaleAddLineApi.as_view(), name="checkout-sale-add-line"),
    path("sales/<uuid:sale_id>/complete", v.SaleCompleteApi.as_view(), name="checkout-sale-complete"),
    path("sales", v.SaleOpenApi.as_view(), name="checkout-sale-open"),
    path("products/search", v.ProductSearchApi.as_view(), name="checkout-product-search"),
    path("terminal/login", v.TerminalLoginApi.as_view(), name="checkout-login"),
    path("terminal/unlock", v.StaffPinUnlockApi.as_view(), name="checkout-unlock"),
    path("terminal/logout", v.TerminalLogoutApi.as_view(), name="checkout-logout"),
    path("shifts/open", v.ShiftOpenApi.as_view(), name="checkout-shift-open"),
    path("shifts/current", v.ShiftCurrentApi.as_view(), name="checkout-shift-current"),
    path("shifts/current/cash-movements", v.ShiftCashMoveApi.as_view(), name="checkout-shift-cash"),
    path("shifts/current/x-report", v.ShiftXReportApi.as_view(), name="checkout-shift-x"),
    path("shifts/current/close", v.ShiftCloseApi.as_view(), name="checkout-shift-close"),
    path("drawer/no-sale", v.DrawerNoSaleApi.as_view(), name="checkout-no-sale"),
    path("members", v.MemberCreateApi.as_view(), name="checkout-member-create"),
    path("members/lookup", v.MemberLookupApi.as_view(), name="checkout-member-lookup"),
    path("sales/suspended", v.SaleSuspendedListApi.as_view(), name="checkout-sales-suspended"),
    path("sales/<uuid:sale_id>", v.SaleDetailApi.as_view(), name="checkout-sale"),
    path(
        "sales/<uuid:sale_id>/lines/<uuid:line_id>/discount",
        v.SaleLineDiscountApi.as_view(),
        name="checkout-line-discount",
    ),
    path(
        "sales/<uuid:sale_id>/lines/<uuid:line_id>/price",
        v.SaleOverridePriceApi.as_view(),
        name="checkout-line-price",
    ),
    path(
        "sales/<uuid:sale_id>/lines/<uuid:line_id>/void",
        v.SaleVoidLineApi.as_view(),
        name="checkout-line-void",
    ),
    path("sales/<uuid:sale_id>/discount", v.SaleDiscountApi.as_view(), name="checkout-sale-discount"),
    path("sales/<uuid:sale_id>/suspend", v.SaleSuspendApi.as_view(), name="checkout-sale-suspend"),
    path("sales/<uuid:sale_id>/resume", v.SaleResumeApi.as_view(), name="checkout-sale-resume"),
    path("sales/<uuid:sale_id>/cancel", v.SaleCancelApi.as_view(), name="checkout-sale-cancel"),
    path("sales/<uuid:sale_id>/member", v.SaleAttachMemberApi.as_view(), name="checkout-sale-member"),
    path("sales/<uuid:sale_id>/tenders", v.SaleAddTenderApi.as_view(), name="checkout-sale-tender"),
    path(
        "sales/<uuid:sale_id>/tenders/<uuid:tender_id>/remove",
        v.SaleRemoveTenderApi.as_view(),
        name="checkout-sale-tender-remove",
    ),
    path("receipts/<str:receipt>", v.ReceiptLookupApi.as_view(), name="checkout-receipt"),
    path("returns", v.SaleReturnApi.as_view(), name="checkout-return"),
    path("orders/ready", orders.OrdersReadyApi.as_view(), name="checkout-orders-ready"),
    path("orders/<uuid:order_id>/collect", orders.OrderCollectApi.as_view(), name="checkout-order-collect"),
]
