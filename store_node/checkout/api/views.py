"""The till's API: one view per operation, nested Input/Output serializers, services do the work.

Every refusal is ``{"detail", "code"}`` with a 4xx (``retail.api_errors``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from retail.api_errors import NotFound
from retail.stores.models import Terminal
from store_node.checkout.api.auth import TerminalApi
from store_node.checkout.api.serializers import (
    ApprovalSerializer,
    MemberBrief,
    SaleOutput,
    sale_data,
    sale_json,
)
from store_node.checkout.selectors import points_redeemable, product_search, sale_tenders, sales_suspended
from store_node.checkout.services import members as member_services
from store_node.checkout.services import sales as sale_services
from store_node.checkout.services import shifts as shift_services
from store_node.checkout.services import tenders as tender_services
from store_node.checkout.services.returns import original_sale_for, returnable_lines, sale_return
from store_node.checkout.services.terminal_login import staff_pin_unlock, terminal_login, terminal_logout

MONEY = {"max_digits": 12, "decimal_places": 2}


def _sale(sale_id, code=status.HTTP_200_OK) -> Response:
    return Response(sale_data(sale_id), status=code)


# ---------------------------------------------------------------------------------------------
# Terminal sessions
# ---------------------------------------------------------------------------------------------


class TerminalLoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        terminal = serializers.CharField(help_text="The lane code (T01) or the terminal's id")
        username = serializers.CharField(max_length=150)
        pin = serializers.CharField(max_length=32, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField()
        terminal = serializers.CharField()
        username = serializers.CharField()
        role = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, auth=[])
    def post(self, request):
        from django.conf import settings

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data["terminal"]
        terminal = (
            Terminal.objects.select_related("store")
            .filter(store__code=settings.STORE_CODE, code=code)
            .first()
        )
        if terminal is None:
            try:
                terminal = (
                    Terminal.objects.select_related("store")
                    .filter(store__code=settings.STORE_CODE, pk=code)
                    .first()
                )
            except Exception:  # not a UUID
                terminal = None
        if terminal is None:
            raise NotFound(f"No terminal {code} at store {settings.STORE_CODE}", code="unknown_terminal")
        session = terminal_login(
            terminal=terminal, username=data.validated_data["username"], pin=data.validated_data["pin"]
        )
        out = {
            "token": session.token,
            "expires_at": session.expires_at,
            "terminal": terminal.label,
            "username": session.user.username,
            "role": session.user.role,
        }
        return Response(self.OutputSerializer(out).data, status=status.HTTP_201_CREATED)


class StaffPinUnlockApi(APIView):
    """No session needed: the locked person may be the only one at the till. The manager's PIN is."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        terminal = serializers.CharField(help_text="The lane code (T01)")
        username = serializers.CharField(max_length=150, help_text="Who is locked out")
        approval = ApprovalSerializer()

    @extend_schema(request=InputSerializer, responses={204: None}, auth=[])
    def post(self, request):
        from django.conf import settings

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data["terminal"]
        terminal = (
            Terminal.objects.select_related("store")
            .filter(store__code=settings.STORE_CODE, code=code)
            .first()
        )
        if terminal is None:
            raise NotFound(f"No terminal {code} at store {settings.STORE_CODE}", code="unknown_terminal")
        staff_pin_unlock(
            terminal=terminal,
            username=data.validated_data["username"],
            approval=data.validated_data["approval"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TerminalLogoutApi(TerminalApi):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        terminal_logout(session=self.session)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------
# Shifts and the drawer
# ---------------------------------------------------------------------------------------------


class ShiftOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    opening_float = serializers.DecimalField(**MONEY)
    expected_cash = serializers.DecimalField(**MONEY, allow_null=True)
    counted_cash = serializers.DecimalField(**MONEY, allow_null=True)
    over_short = serializers.DecimalField(**MONEY, allow_null=True)
    z_report = serializers.JSONField(allow_null=True)


class ShiftOpenApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        opening_float = serializers.DecimalField(**MONEY, min_value=0)

    @extend_schema(request=InputSerializer, responses={201: ShiftOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shift = shift_services.till_shift_open(
            terminal=self.terminal, cashier=self.cashier, opening_float=data.validated_data["opening_float"]
        )
        return Response(ShiftOutput(shift).data, status=status.HTTP_201_CREATED)


class ShiftCurrentApi(TerminalApi):
    @extend_schema(responses=ShiftOutput)
    def get(self, request):
        return Response(ShiftOutput(shift_services.current_shift(terminal=self.terminal)).data)


class ShiftCashMoveApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=["paid_in", "paid_out"])
        amount = serializers.DecimalField(**MONEY)
        reason = serializers.CharField(max_length=200)

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        kind = serializers.CharField()
        amount = serializers.DecimalField(**MONEY)
        reason = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        move = shift_services.till_cash_move(
            terminal=self.terminal, staff=self.cashier, **data.validated_data
        )
        return Response(self.OutputSerializer(move).data, status=status.HTTP_201_CREATED)


class ShiftXReportApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        print = serializers.BooleanField(default=False)

    @extend_schema(request=InputSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            shift_services.till_x_report(terminal=self.terminal, print_it=data.validated_data["print"])
        )


class ShiftCloseApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        denominations = serializers.DictField(
            child=serializers.IntegerField(min_value=0), help_text='Count per denomination: {"20.00": 3}'
        )

    @extend_schema(request=InputSerializer, responses=ShiftOutput)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shift = shift_services.till_shift_close(terminal=self.terminal, **data.validated_data)
        return Response(ShiftOutput(shift).data)


class DrawerNoSaleApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200)
        approval = ApprovalSerializer()

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shift_services.drawer_no_sale(terminal=self.terminal, cashier=self.cashier, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------
# Catalog and members
# ---------------------------------------------------------------------------------------------


class ProductSearchApi(TerminalApi):
    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=100)
        limit = serializers.IntegerField(min_value=1, max_value=50, default=20)

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        sku = serializers.CharField()
        name = serializers.CharField()
        unit = serializers.CharField()
        tax_class = serializers.CharField()

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(
            self.OutputSerializer(
                product_search(query=params.validated_data["q"], limit=params.validated_data["limit"]),
                many=True,
            ).data
        )


class MemberOutput(MemberBrief):
    phone = serializers.CharField()
    email = serializers.CharField()
    card_barcode = serializers.CharField(allow_null=True)
    points_redeemable = serializers.SerializerMethodField()

    def get_points_redeemable(self, member) -> int:
        return points_redeemable(member=member)


class MemberLookupApi(TerminalApi):
    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=64, help_text="Card scan, member number or phone")

    @extend_schema(parameters=[FilterSerializer], responses=MemberOutput)
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(MemberOutput(member_services.member_lookup(query=params.validated_data["q"])).data)


class MemberCreateApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=80, required=False, default="")
        last_name = serializers.CharField(max_length=80, required=False, default="")
        phone = serializers.CharField(max_length=32, required=False, default="")
        email = serializers.EmailField(required=False, default="")
        card_barcode = serializers.CharField(max_length=32, required=False, allow_null=True, default=None)
        consent_marketing = serializers.BooleanField(default=False)
        consent_email = serializers.BooleanField(default=False)
        consent_sms = serializers.BooleanField(default=False)

    @extend_schema(request=InputSerializer, responses={201: MemberOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_services.member_create_at_till(**data.validated_data)
        return Response(MemberOutput(member).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Sales
# ---------------------------------------------------------------------------------------------


class SaleOpenApi(TerminalApi):
    @extend_schema(request=None, responses={201: SaleOutput})
    def post(self, request):
        sale = sale_services.sale_open(terminal=self.terminal, cashier=self.cashier)
        # A new sale has no lines, tenders or member: render it as created, without reading it back.
        return Response(sale_json(sale, [], []), status=status.HTTP_201_CREATED)


class SaleDetailApi(TerminalApi):
    @extend_schema(responses=SaleOutput)
    def get(self, request, sale_id):
        sale_services.sale_for_terminal(
            sale_id=sale_id, terminal=self.terminal, statuses=("open", "suspended", "completed", "cancelled")
        )
        return _sale(sale_id)


class SaleAddLineApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        scan = serializers.CharField(required=False, max_length=200, trim_whitespace=False)
        sku = serializers.CharField(required=False, max_length=32)
        product_id = serializers.UUIDField(required=False)
        quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=9999)
        weight = serializers.DecimalField(max_digits=9, decimal_places=3, required=False, min_value=0)

    @extend_schema(request=InputSerializer, responses={201: SaleOutput})
    def post(self, request, sale_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = sale_services.sale_add_line(
            sale_id=sale_id, terminal=self.terminal, cashier=self.cashier, **data.validated_data
        )
        # The hot path of the till: render from the rows the service just priced, no re-read.
        sale = line.sale
        tenders = sale_tenders(sale=sale) if sale.has_tenders else []
        return Response(sale_json(sale, sale.lines_cache, tenders), status=status.HTTP_201_CREATED)


class DiscountInput(serializers.Serializer):
    kind = serializers.CharField(allow_null=True, help_text="percent, amount, or null to remove")
    value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, min_value=0)


class SaleLineDiscountApi(TerminalApi):
    InputSerializer = DiscountInput

    @extend_schema(request=InputSerializer, responses=SaleOutput)
    def post(self, request, sale_id, line_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale_services.sale_set_line_discount(
            sale_id=sale_id, line_id=line_id, terminal=self.terminal, **data.validated_data
        )
        return _sale(sale_id)


class SaleDiscountApi(TerminalApi):
    class InputSerializer(DiscountInput):
        reason = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(request=InputSerializer, responses=SaleOutput)
    def post(self, request, sale_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale_services.sale_set_discount(sale_id=sale_id, terminal=self.terminal, **data.validated_data)
        return _sale(sale_id)


class SaleOverridePriceApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        unit_price = serializers.DecimalField(**MONEY, min_value=0)
        approval = ApprovalSerializer()

    @extend_schema(request=InputSerializer, responses=SaleOutput)
    def post(self, request, sale_id, line_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale_services.sale_override_price(
            sale_id=sale_id,
            line_id=line_id,
            terminal=self.terminal,
            cashier=self.cashier,
            **data.validated_data,
        )
        return _sale(sale_id)


class SaleVoidLineApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        approval = ApprovalSerializer()

    @extend_schema(request=InputSerializer, responses=SaleOutput)
    def post(self, request, sale_id, line_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale_services.sale_void_line(
            sale_id=sale_id,
            line_id=line_id,
            terminal=self.terminal,
            cashier=self.cashier,
            **data.validated_data,
        )
        return _sale(sale_id)


class SaleSuspendApi(TerminalApi):
    @extend_schema(request=None, responses=SaleOutput)
    def post(self, request, sale_id):
        sale_services.sale_suspend(sale_id=sale_id, terminal=self.terminal)
        return _sale(sale_id)


class SaleSuspendedListApi(TerminalApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        terminal = serializers.CharField(source="terminal.code")
        cashier = serializers.CharField(source="cashier.username")
        created_at = serializers.DateTimeField()
        total = serializers.DecimalField(**MONEY)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(
            self.OutputSerializer(sales_suspended(store_id=self.terminal.store_id), many=True).data
        )


class SaleResumeApi(TerminalApi):
    @extend_schema(request=None, responses=SaleOutput)
    def post(self, request, sale_id):
        sale_services.sale_resume(sale_id=sale_id, terminal=self.terminal, cashier=self.cashier)
        return _sale(sale_id)


class SaleCancelApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, default="")
        approval = ApprovalSerializer(required=False)

    @extend_schema(request=InputSerializer, responses=SaleOutput)
    def post(self, request, sale_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale_services.sale_cancel(
            sale_id=sale_id, terminal=self.terminal, cashier=self.cashier, **data.validated_data
        )
        return _sale(sale_id)


class SaleAttachMemberApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        query = serializers.CharField(
            max_length=64, allow_blank=True, help_text="Card scan, member number or phone; empty detaches"
        )

    @extend_schema(request=InputSerializer, responses=SaleOutput)
    def post(self, request, sale_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_services.sale_attach_member(sale_id=sale_id, terminal=self.terminal, **data.validated_data)
        return _sale(sale_id)


class TenderInput(serializers.Serializer):
    kind = serializers.CharField(help_text="cash, card or points")
    amount = serializers.DecimalField(**MONEY, required=False)
    tendered = serializers.DecimalField(**MONEY, required=False, help_text="Cash handed over")
    reference = serializers.CharField(max_length=64, required=False, default="")
    approved = serializers.BooleanField(default=True, help_text="The card terminal's answer")
    points = serializers.IntegerField(required=False, min_value=1)


class SaleAddTenderApi(TerminalApi):
    InputSerializer = TenderInput

    @extend_schema(request=InputSerializer, responses={201: SaleOutput})
    def post(self, request, sale_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tender_services.sale_add_tender(sale_id=sale_id, terminal=self.terminal, **data.validated_data)
        return _sale(sale_id, status.HTTP_201_CREATED)


class SaleRemoveTenderApi(TerminalApi):
    @extend_schema(request=None, responses=SaleOutput)
    def post(self, request, sale_id, tender_id):
        tender_services.sale_remove_tender(sale_id=sale_id, tender_id=tender_id, terminal=self.terminal)
        return _sale(sale_id)


class SaleCompleteApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        tenders = TenderInput(many=True, required=False, default=list)

    @extend_schema(request=InputSerializer, responses=SaleOutput)
    def post(self, request, sale_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sale = tender_services.sale_complete(
            sale_id=sale_id,
            terminal=self.terminal,
            cashier=self.cashier,
            tenders=data.validated_data["tenders"],
        )
        return Response(sale_json(sale, sale.lines_cache, sale.tenders_cache))


# ---------------------------------------------------------------------------------------------
# Returns
# ---------------------------------------------------------------------------------------------


class ReceiptLookupApi(TerminalApi):
    class OutputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            id = serializers.UUIDField(source="line.id")
            description = serializers.CharField(source="line.description")
            quantity = serializers.DecimalField(max_digits=12, decimal_places=3, source="line.quantity")
            paid = serializers.DecimalField(**MONEY)
            returned = serializers.DecimalField(max_digits=12, decimal_places=3)
            left = serializers.DecimalField(max_digits=12, decimal_places=3)

            class Meta:
                ref_name = "CheckoutReceiptLine"

        sale_id = serializers.UUIDField()
        receipt_number = serializers.CharField()
        lines = LineSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, receipt):
        sale = original_sale_for(receipt=receipt)
        data = {
            "sale_id": sale.id,
            "receipt_number": sale.receipt_number,
            "lines": returnable_lines(sale=sale),
        }
        return Response(self.OutputSerializer(data).data)


class SaleReturnApi(TerminalApi):
    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            line_id = serializers.UUIDField(required=False, help_text="A line of the receipt")
            scan = serializers.CharField(required=False, max_length=200, help_text="Without a receipt")
            sku = serializers.CharField(required=False, max_length=32, help_text="Without a receipt")
            quantity = serializers.DecimalField(max_digits=9, decimal_places=3, min_value=0)
            restock = serializers.BooleanField(default=True, help_text="False: written off")

            class Meta:
                ref_name = "CheckoutReturnLineInput"

        receipt = serializers.CharField(required=False, allow_null=True, default=None, max_length=40)
        lines = LineSerializer(many=True)
        refund_to = serializers.ChoiceField(choices=["original", "cash"], default="original")
        approval = ApprovalSerializer(required=False, allow_null=True, default=None)
        reason = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(request=InputSerializer, responses={201: SaleOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ret = sale_return(terminal=self.terminal, cashier=self.cashier, **data.validated_data)
        return _sale(ret.id, status.HTTP_201_CREATED)


def _name_nested_serializers() -> None:
    # Nested Input/Output serializers share short names; give each a unique schema component name.
    for name, obj in list(globals().items()):
        if isinstance(obj, type) and issubclass(obj, APIView):
            for attr in ("InputSerializer", "OutputSerializer", "FilterSerializer"):
                nested = obj.__dict__.get(attr)
                if nested is not None and "Meta" not in nested.__dict__:
                    nested.Meta = type(
                        "Meta", (), {"ref_name": f"Checkout{name.removesuffix('Api')}{attr[:-10]}"}
                    )


_name_nested_serializers()
