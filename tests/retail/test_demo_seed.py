"""The demo and benchmark catalog (retail/demo/seed.py)."""

import random

from retail.demo.seed import BRANDS, FOOD, SIZES, product_name


def test_product_names_stay_unique_well_past_the_vocabulary():
    # given more products of one kind than its brands and sizes can name (20 x 18 = 360)
    rng, used = random.Random(7), set()

    # when 2,000 are named
    for i in range(2_000):
        used.add(product_name(rng, FOOD[0], used, i))

    # then every name is different, and the ones past the vocabulary carry their line number
    assert len(used) == 2_000
    numbered = [n for n in used if " no. " in n]
    assert len(BRANDS) * len(SIZES) == 360
    assert 2_000 - 360 <= len(numbered) < 2_000
