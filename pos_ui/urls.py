from django.urls import path

from pos_ui.views import common, handheld, orders, terminal, transfers

app_name = "pos_ui"

T = "t/<uuid:terminal_id>/"

urlpatterns = [
    path("", common.home, name="home"),
    # handheld (every page under h/ needs a staff member signed in: pos_ui.handheld_auth)
    path("h/login", handheld.login, name="handheld_login"),
    path("h/logout", handheld.logout, name="handheld_logout"),
    path("h/", handheld.lookup, name="handheld_lookup"),
    path("h/count/", handheld.count, name="handheld_count"),
    path("h/count/add", handheld.count_add, name="handheld_count_add"),
    path("h/count/list", handheld.count_list, name="handheld_count_list"),
    path("h/count/set", handheld.count_set, name="handheld_count_set"),
    path("h/count/review", handheld.count_review, name="handheld_count_review"),
    path("h/count/remove/<uuid:product_id>", handheld.count_remove, name="handheld_count_remove"),
    path("h/count/post", handheld.count_post, name="handheld_count_post"),
    path("h/orders/", orders.pick_list, name="handheld_orders"),
    path("h/orders/<uuid:order_id>/", orders.pick, name="handheld_order_pick"),
    path("h/orders/<uuid:order_id>/scan", orders.pick_scan, name="handheld_order_scan"),
    path("h/orders/<uuid:order_id>/ready", orders.pick_ready, name="handheld_order_ready"),
    path("h/transfers/", transfers.transfer_list, name="handheld_transfers"),
    path("h/transfers/<uuid:transfer_id>/", transfers.transfer_show, name="handheld_transfer"),
    path("h/transfers/<uuid:transfer_id>/scan", transfers.transfer_scan, name="handheld_transfer_scan"),
    path("h/transfers/<uuid:transfer_id>/set", transfers.transfer_set, name="handheld_transfer_set"),
    path("h/transfers/<uuid:transfer_id>/review", transfers.transfer_review, name="handheld_transfer_review"),
    path(
        "h/transfers/<uuid:transfer_id>/confirm", transfers.transfer_confirm, name="handheld_transfer_confirm"
    ),
    # terminal
    path(T, terminal.screen, name="terminal"),
    path(T + "login", terminal.login, name="terminal_login"),
    path(T + "logout", terminal.logout, name="terminal_logout"),
    path(T + "status", terminal.status, name="terminal_status"),
    path(T + "shift/open", terminal.shift_open, name="terminal_shift_open"),
    path(T + "shift/x-report", terminal.x_report, name="terminal_x_report"),
    path(T + "shift/close", terminal.shift_close, name="terminal_shift_close"),
    path(T + "sale/", terminal.sale, name="terminal_sale"),
    path(T + "sale/scan", terminal.sale_scan, name="terminal_sale_scan"),
    path(T + "sale/add", terminal.sale_add, name="terminal_sale_add"),
    path(T + "sale/discount", terminal.sale_discount, name="terminal_sale_discount"),
    path(T + "sale/member", terminal.sale_member, name="terminal_sale_member"),
    path(T + "sale/member/new", terminal.member_create, name="terminal_member_create"),
    path(T + "sale/suspend", terminal.sale_suspend, name="terminal_sale_suspend"),
    path(T + "sale/cancel", terminal.sale_cancel, name="terminal_sale_cancel"),
    path(T + "sale/line/<uuid:line_id>/discount", terminal.line_discount, name="terminal_line_discount"),
    path(T + "sale/line/<uuid:line_id>/void", terminal.line_void, name="terminal_line_void"),
    path(T + "sale/line/<uuid:line_id>/price", terminal.line_price, name="terminal_line_price"),
    path(T + "suspended/", terminal.suspended, name="terminal_suspended"),
    path(T + "suspended/<uuid:sale_id>/resume", terminal.sale_resume, name="terminal_sale_resume"),
    path(T + "tender/", terminal.tender, name="terminal_tender"),
    path(T + "tender/add", terminal.tender_add, name="terminal_tender_add"),
    path(T + "tender/scan", terminal.tender_scan, name="terminal_tender_scan"),
    path(T + "tender/<uuid:tender_id>/remove", terminal.tender_remove, name="terminal_tender_remove"),
    path(T + "receipt/<uuid:sale_id>/", terminal.receipt, name="terminal_receipt"),
    path(T + "receipt/<uuid:sale_id>/reprint", terminal.reprint, name="terminal_reprint"),
    path(T + "return/", terminal.sale_return_screen, name="terminal_return"),
    path(T + "orders/", orders.collect_list, name="terminal_orders"),
    path(T + "orders/badge", orders.badge, name="terminal_orders_badge"),
    path(T + "orders/<uuid:order_id>/collect", orders.collect, name="terminal_order_collect"),
]
