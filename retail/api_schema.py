"""drf-spectacular tuned to our API style.

Views nest their serializers (``SaleAddLineApi.InputSerializer``), so the default component name
("Input") collides across views; we name each component after its view instead
(``SaleAddLineApiInput``).
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        if "." not in qualname or "<locals>" in qualname:
            return super().get_serializer_name(serializer, direction)
        outer, inner = qualname.rsplit(".", 1)
        base = inner.removesuffix("Serializer") or inner
        return outer.replace(".", "") + base
