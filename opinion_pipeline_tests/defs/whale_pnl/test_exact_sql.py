"""The SQL long division is exact over its whole domain, up to its edges, on many triples."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import duckdb
import pandas as pd
import pytest

from opinion_pipeline.defs.whale_pnl import exact_sql

pytestmark = pytest.mark.unit
QUANTUM = Decimal(1).scaleb(-18)
LIMIT_BOUGHT, LIMIT_COST = 85_000_000_000, 9 * 10**18  # exact_sql.IN_DOMAIN's bounds


def _decimal(rng: random.Random, high: int) -> Decimal:
    """0 < x < high with 0 to 18 places, its magnitude spread evenly over the decades."""
    digits = rng.randrange(0, len(str(high)))
    with localcontext() as context:
        context.prec = 100
        value = Decimal(rng.randrange(1, 10 ** (digits + 18))).scaleb(-18)
        places = rng.choice([0, 3, 9, 18])
        value = value.quantize(Decimal(1).scaleb(-places))
        return min(max(value, QUANTUM), Decimal(high) - QUANTUM)


def _triples(n: int) -> list[tuple[Decimal, Decimal, Decimal]]:
    rng = random.Random(16)
    with localcontext() as context:
        context.prec = 100
        return _edges() + _near_integers(rng) + _random(rng, n)


def _near_integers(rng: random.Random) -> list[tuple[Decimal, Decimal, Decimal]]:
    """h x c within a few units of a multiple of b: quotient digits whose floating-point
    estimate lands on the wrong side of an integer and is corrected. (An uncorrected one is
    undone by the next digit and the final rounding, so only the bound on the partial products,
    not the result, depends on the correction: these cases check the result.)"""
    out = []
    for n in range(3000):  # a third of them near the largest bought
        low = 80 * 10**27 if n % 3 == 0 else 10**20
        b = rng.randrange(low, LIMIT_BOUGHT * 10**18)
        h = rng.randrange(1, b)
        for t in (-2, -1, 0, 1):
            c = rng.randrange(0, LIMIT_COST * 10**18 // b) * b  # a multiple of b, then shifted
            inverse = pow(h, -1, b) if _coprime(h, b) else None
            if inverse is None:
                continue
            c += (t * inverse) % b
            if 0 <= c < LIMIT_COST * 10**18:
                out.append(tuple(Decimal(x).scaleb(-18) for x in (h, c, b)))
    return out


def _coprime(a: int, b: int) -> bool:
    while b:
        a, b = b, a % b
    return a == 1


def _edges() -> list[tuple[Decimal, Decimal, Decimal]]:
    limit_bought, limit_cost = LIMIT_BOUGHT, LIMIT_COST
    return [  # the edges: largest bought and cost, held one quantum short of bought, ties
        (Decimal(limit_bought) - 2 * QUANTUM, Decimal(limit_cost) - QUANTUM,
         Decimal(limit_bought) - QUANTUM),
        (QUANTUM, Decimal(limit_cost) - QUANTUM, Decimal(limit_bought) - QUANTUM),
        (Decimal(1), Decimal("0.000000000000000005"), Decimal(2)),
        (Decimal(1), Decimal("0.000000000000000007"), Decimal(2)),
        (Decimal(1), Decimal("99999999999999999.999999999999999999"), Decimal(3)),
    ]  # fmt: skip


def _random(rng: random.Random, n: int) -> list[tuple[Decimal, Decimal, Decimal]]:
    limit_bought, limit_cost = LIMIT_BOUGHT, LIMIT_COST
    out = []
    while len(out) < n:
        bought = _decimal(rng, limit_bought)
        held = _decimal(rng, int(bought) + 1)
        if held >= bought:
            continue
        out.append((held, _decimal(rng, rng.choice([10, 10**6, 10**12, limit_cost])), bought))
    return out


def _expected(held: Decimal, cost: Decimal, bought: Decimal) -> Decimal:
    with localcontext() as context:
        context.prec = 100
        return (held * cost / bought).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def test_the_basis_equals_decimal_half_even() -> None:
    triples = _triples(20_000)
    rows = pd.DataFrame([tuple(map(str, t)) for t in triples], columns=["held", "cost", "bought"])
    conn = duckdb.connect()
    conn.register("raw", rows)
    conn.execute(
        "CREATE TABLE t AS SELECT row_number() OVER () AS n, "
        "CAST(held AS DECIMAL(38,18)) AS held, CAST(cost AS DECIMAL(38,18)) AS cost, "
        "CAST(bought AS DECIMAL(38,18)) AS bought FROM raw"
    )
    assert conn.execute(f"SELECT bool_and({exact_sql.IN_DOMAIN}) FROM (SELECT *, NULL AS mark "
                        "FROM t)").fetchone() == (True,)  # fmt: skip
    basis = exact_sql.from_scaled(exact_sql.half_even("basis_q", "basis_r", "basis_b"))
    divided = exact_sql.long_division_layers("t", "true")
    got = conn.execute(f"SELECT {basis} FROM ({divided}) ORDER BY n").fetchall()
    wrong = [
        (t, value, _expected(*t)) for t, (value,) in zip(triples, got, strict=True)
        if value != _expected(*t)
    ]  # fmt: skip
    assert not wrong, wrong[:3]
