from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthApi(APIView):
    """Liveness for load balancers and the store nodes' online indicator; reveals nothing."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "Health", {"status": serializers.CharField(), "role": serializers.CharField()}
        )
    )
    def get(self, request):
        return Response({"status": "ok", "role": "cloud"})
