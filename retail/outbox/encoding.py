"""JSON for event payloads and the sync wire: Decimals as strings, times to the microsecond."""

import datetime

from django.core.serializers.json import DjangoJSONEncoder


class PayloadEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (Django's cuts them to milliseconds),
    so a price's ``effective_from`` is the same instant at every node."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)
