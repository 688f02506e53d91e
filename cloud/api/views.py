"""The omnichannel API for integrations (the web shop): one view per operation."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from cloud.api.auth import ApiKeyAuthentication, ApiKeyRateThrottle, HasApiKey
from cloud.api.models import Fulfilment, Order, OrderStatus
from cloud.api.orders import OrderItem, order_place, order_status_set
from cloud.api.selectors import chain_prices, member_ledger, member_lookup, product_availability, product_list
from cloud.api.services import member_points_post_online, member_register_online
from retail.api_errors import Invalid, NotFound
from retail.catalog.models import Barcode, Product
from retail.members.models import Member, PointsKind


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 429)}


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class OmniApi(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    throttle_classes = [ApiKeyRateThrottle]


class OmniListApi(OmniApi, generics.ListAPIView):
    pagination_class = Pagination


def _product_or_404(sku: str) -> Product:
    product = Product.objects.filter(sku=sku, active=True).order_by().first()
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}", code="product_not_found")
    return product


def _member_or_404(number: str) -> Member:
    member = member_lookup(number=number)
    if member is None:
        raise NotFound(f"no member {number!r}", code="member_not_found")
    return member


class ProductOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    tax_class = serializers.CharField(source="tax_class_id")
    barcodes = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField(help_text="Chain-wide price now; a store may differ.")

    def get_barcodes(self, product) -> list[str]:
        return [barcode.code for barcode in product.barcodes.all()]

    def get_price(self, product) -> str | None:
        price = self.context["prices"].get(product.id)
        return None if price is None else str(price)


class ProductListApi(OmniListApi):
    """Active products with their chain-wide price, by SKU; filter by text or last change."""

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, max_length=100, allow_blank=True)
        updated_since = serializers.DateTimeField(required=False)

    serializer_class = ProductOutputSerializer

    @extend_schema(
        operation_id="products_list",
        parameters=[FilterSerializer],
        responses={200: ProductOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        products = product_list(**filters.validated_data).prefetch_related(
            Prefetch("barcodes", queryset=Barcode.objects.order_by("code"))
        )
        page = self.paginate_queryset(products)
        prices = chain_prices(product_ids=[p.id for p in page])
        return self.get_paginated_response(
            ProductOutputSerializer(page, many=True, context={"prices": prices}).data
        )


class ProductDetailApi(OmniApi):
    @extend_schema(operation_id="products_retrieve", responses={200: ProductOutputSerializer, **ERRORS})
    def get(self, request, sku: str):
        product = _product_or_404(sku)
        prices = chain_prices(product_ids=[product.id])
        return Response(ProductOutputSerializer(product, context={"prices": prices}).data)


class ProductAvailabilityApi(OmniApi):
    """What the web shop shows under a product: its price and stock in each store."""

    class FilterSerializer(serializers.Serializer):
        store = serializers.CharField(
            required=False, max_length=200, help_text="Store codes, comma separated."
        )

    class OutputSerializer(serializers.Serializer):
        class StoreSerializer(serializers.Serializer):
            store = serializers.CharField(source="store_code")
            name = serializers.CharField(source="store_name")
            price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
            on_hand = serializers.DecimalField(max_digits=14, decimal_places=3)
            reserved = serializers.DecimalField(
                max_digits=14, decimal_places=3, help_text="Held by open pickup orders at the store."
            )
            status = serializers.ChoiceField(choices=["in_stock", "low", "out"])

        sku = serializers.CharField()
        stores = StoreSerializer(many=True)

    @extend_schema(
        operation_id="products_availability",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **ERRORS},
    )
    def get(self, request, sku: str):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        codes = [c.strip() for c in filters.validated_data.get("store", "").split(",") if c.strip()]
        stores = product_availability(sku=sku, store_codes=codes or None)
        if stores is None:
            raise NotFound(f"no product with SKU {sku!r}", code="product_not_found")
        # The web shop calls this for every product page (target p99 20 ms): the shape is
        # OutputSerializer's, built directly because serializing 50 stores field by field costs more
        # than the queries. tests/cloud/api/test_products.py pins it against the schema's fields.
        return Response(
            {
                "sku": sku,
                "stores": [
                    {
                        "store": s.store_code,
                        "name": s.store_name,
                        "price": None if s.price is None else f"{s.price:.2f}",
                        "on_hand": f"{s.on_hand:.3f}",
                        "reserved": f"{s.reserved:.3f}",
                        "status": s.status,
                    }
                    for s in stores
                ],
            }
        )


class MemberOutputSerializer(serializers.Serializer):
    number = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    consent_marketing = serializers.BooleanField()
    consent_email = serializers.BooleanField()
    consent_sms = serializers.BooleanField()
    points_balance = serializers.IntegerField(help_text="One balance across every store and the web shop.")
    created_at = serializers.DateTimeField()


class MemberLookupApi(OmniApi):
    """Find a member by exactly one of number (or card), email or phone."""

    class FilterSerializer(serializers.Serializer):
        number = serializers.CharField(required=False, allow_blank=True, max_length=32)
        email = serializers.CharField(required=False, allow_blank=True, max_length=254)
        phone = serializers.CharField(required=False, allow_blank=True, max_length=32)

    @extend_schema(
        operation_id="members_lookup",
        parameters=[FilterSerializer],
        responses={200: MemberOutputSerializer, **ERRORS},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        given = {k: v for k, v in filters.validated_data.items() if v.strip()}
        if len(given) != 1:
            raise Invalid("give exactly one of number, email, phone", code="lookup_one_field")
        member = member_lookup(**given)
        if member is None:
            raise NotFound("no such member", code="member_not_found")
        return Response(MemberOutputSerializer(member).data)


class MemberRegisterApi(OmniApi):
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        phone = serializers.RegexField(r"^\+?[0-9 ]{0,31}$", required=False, allow_blank=True, max_length=32)
        first_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
        last_name = serializers.CharField(required=False, allow_blank=True, max_length=80)
        consent_marketing = serializers.BooleanField(required=False, default=False)
        consent_email = serializers.BooleanField(required=False, default=False)
        consent_sms = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="members_register",
        request=InputSerializer,
        responses={201: MemberOutputSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_register_online(**data.validated_data)
        return Response(MemberOutputSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(OmniApi):
    @extend_schema(operation_id="members_retrieve", responses={200: MemberOutputSerializer, **ERRORS})
    def get(self, request, number: str):
        return Response(MemberOutputSerializer(_member_or_404(number)).data)


class LedgerEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=PointsKind.choices)
    points = serializers.IntegerField()
    sale_id = serializers.UUIDField(allow_null=True)
    reason = serializers.CharField()
    origin = serializers.CharField(help_text="Where it happened: a store code or cloud (online).")
    created_at = serializers.DateTimeField()


class MemberLedgerApi(OmniListApi):
    """The member's points entries, newest first."""

    serializer_class = LedgerEntrySerializer

    @extend_schema(operation_id="members_ledger", responses={200: LedgerEntrySerializer(many=True), **ERRORS})
    def get(self, request, number: str):
        page = self.paginate_queryset(member_ledger(member=_member_or_404(number)))
        return self.get_paginated_response(LedgerEntrySerializer(page, many=True).data)


class PointsInputSerializer(serializers.Serializer):
    points = serializers.IntegerField(min_value=1, max_value=10_000_000)
    reference = serializers.RegexField(
        r"^[A-Za-z0-9._:/-]{1,64}$",
        help_text="Your order id: posting the same reference again changes nothing.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class PointsOutputSerializer(serializers.Serializer):
    entry = LedgerEntrySerializer()
    balance = serializers.IntegerField()


class _MemberPointsApi(OmniApi):
    kind: str

    def post(self, request, number: str):
        data = PointsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = _member_or_404(number)
        entry, created = member_points_post_online(
            api_key=request.auth, member=member, kind=self.kind, **data.validated_data
        )
        member.refresh_from_db(fields=["points_balance"])
        return Response(
            PointsOutputSerializer({"entry": entry, "balance": member.points_balance}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MemberPointsEarnApi(_MemberPointsApi):
    kind = PointsKind.EARN

    @extend_schema(
        operation_id="members_points_earn",
        request=PointsInputSerializer,
        responses={201: PointsOutputSerializer, 200: PointsOutputSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request, number: str):
        return super().post(request, number)


class MemberPointsRedeemApi(_MemberPointsApi):
    """Spend points online; refused with 409 ``points_insufficient`` rather than going below zero."""

    kind = PointsKind.REDEEM

    @extend_schema(
        operation_id="members_points_redeem",
        request=PointsInputSerializer,
        responses={201: PointsOutputSerializer, 200: PointsOutputSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request, number: str):
        return super().post(request, number)


class OrderOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        sku = serializers.CharField()
        description = serializers.CharField()
        quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
        unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
        line_total = serializers.DecimalField(max_digits=12, decimal_places=2)

    class HistorySerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices)
        at = serializers.DateTimeField()
        note = serializers.CharField()

    number = serializers.CharField()
    reference = serializers.CharField()
    fulfilment = serializers.ChoiceField(choices=Fulfilment.choices)
    store = serializers.CharField(source="store.code", allow_null=True, default=None)
    member = serializers.CharField(source="member.number", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_text = serializers.CharField(help_text='e.g. "Placed, waiting for the store" for a pickup')
    prepaid = serializers.BooleanField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    lines = LineSerializer(many=True)
    history = HistorySerializer(many=True)
    created_at = serializers.DateTimeField()


def _order_or_404(request, number: str) -> Order:
    order = (
        Order.objects.filter(number=number, api_key=request.auth)
        .select_related("store", "member")
        .prefetch_related("lines", "history")
        .first()
    )
    if order is None:
        raise NotFound(f"no order {number!r}", code="order_not_found")
    return order


class OrderPlaceApi(OmniApi):
    """Place an order for delivery or for pickup at a store (buy online, pick up in store)."""

    class InputSerializer(serializers.Serializer):
        class ItemSerializer(serializers.Serializer):
            sku = serializers.CharField(max_length=32)
            quantity = serializers.DecimalField(max_digits=9, decimal_places=3, min_value=Decimal("0.001"))

        reference = serializers.RegexField(
            r"^[A-Za-z0-9._:/-]{1,64}$", help_text="Your order id; placing it again returns the same order."
        )
        fulfilment = serializers.ChoiceField(choices=Fulfilment.choices)
        store = serializers.CharField(
            required=False, allow_blank=True, max_length=8, help_text="Pickup store code."
        )
        member = serializers.CharField(
            required=False, allow_blank=True, max_length=20, help_text="Member number."
        )
        prepaid = serializers.BooleanField(required=False, default=False)
        customer_name = serializers.CharField(required=False, allow_blank=True, max_length=160)
        address = serializers.CharField(required=False, allow_blank=True, max_length=240)
        postcode = serializers.CharField(required=False, allow_blank=True, max_length=16)
        city = serializers.CharField(required=False, allow_blank=True, max_length=80)
        lines = ItemSerializer(many=True, min_length=1, max_length=200)

    @extend_schema(
        operation_id="orders_place",
        request=InputSerializer,
        responses={201: OrderOutputSerializer, 200: OrderOutputSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        order, created = order_place(
            api_key=request.auth,
            reference=d["reference"],
            fulfilment=d["fulfilment"],
            items=[OrderItem(sku=i["sku"], quantity=i["quantity"]) for i in d["lines"]],
            store_code=d.get("store", ""),
            member_number=d.get("member", ""),
            prepaid=d["prepaid"],
            customer_name=d.get("customer_name", ""),
            address=d.get("address", ""),
            postcode=d.get("postcode", ""),
            city=d.get("city", ""),
        )
        return Response(
            OrderOutputSerializer(_order_or_404(request, order.number)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class OrderDetailApi(OmniApi):
    """An order of this integration with its lines and every status it went through."""

    @extend_schema(operation_id="orders_retrieve", responses={200: OrderOutputSerializer, **ERRORS})
    def get(self, request, number: str):
        return Response(OrderOutputSerializer(_order_or_404(request, number)).data)


class OrderCancelApi(OmniApi):
    @extend_schema(
        operation_id="orders_cancel",
        request=None,
        responses={200: OrderOutputSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request, number: str):
        order_status_set(
            order=_order_or_404(request, number), status=OrderStatus.CANCELLED, note="cancelled online"
        )
        return Response(OrderOutputSerializer(_order_or_404(request, number)).data)
