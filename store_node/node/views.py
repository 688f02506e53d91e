from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "StoreHealth",
            {
                "status": serializers.CharField(),
                "role": serializers.CharField(),
                "store": serializers.CharField(),
            },
        )
    )
    def get(self, request):
        return Response({"status": "ok", "role": "store", "store": settings.STORE_CODE})
