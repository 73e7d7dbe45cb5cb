"""Exact decimal arithmetic in DuckDB SQL for the PnL of open positions.

DuckDB adds and subtracts DECIMAL(38,18) exactly, multiplies two of them exactly while the
product fits 38 digits at scale 36, and divides them in floating point. An open position needs
one division (its cost basis: held x cost / bought, half-even to 18 places) and one product
(held x mark, rounded half away from zero to 18 places, as a string cast to DECIMAL does), so:

* the product is split as trunc(held) x mark (exact at scale 18) plus frac(held) x mark (exact
  at scale 36, below the mark), and rounded by hand;
* the division is integer long division on the values scaled by 1e18 (HUGEINT), one base-1e9
  digit of the cost at a time, so no intermediate exceeds 2 x bought x 1e9 x 1e18; each digit
  of the quotient is estimated in floating point and corrected exactly.

Each expression holds on a stated domain (:data:`IN_DOMAIN`); rows outside it are left to the
Python Decimal path (compute.py), so every row is exact whatever its size.
"""

from __future__ import annotations

E18 = 10**18
DIGIT = 10**9  # base of the long division
DIGITS = 5  # a DECIMAL(38,18) scaled by 1e18 is below 1e38 < DIGIT ** 5
QUANTUM = "CAST('0.000000000000000001' AS DECIMAL(38,18))"
_TO_DECIMAL = "CAST('0.000000000000000001' AS DECIMAL(18,18))"
_HALF_QUANTUM_BELOW = "CAST('-0.0000000000000000005' AS DECIMAL(38,36))"

# Where the SQL is exact: long division intermediates stay below 2 x 8.5e28 x 1e9 < 2^127
# (bought < 8.5e10 shares), the cost's integer part fits a BIGINT (cost < 9e18), the mark's
# split product fits DECIMAL(38,36) (0 <= mark < 100) and DECIMAL(38,18) (held < 1e18).
# Outside it (never seen in practice) Python takes the row.
IN_DOMAIN = (
    "(held > 0 AND held <= bought AND bought < 85000000000 AND cost >= 0 "
    "AND cost < 9000000000000000000 "
    "AND held < 1000000000000000000 AND (mark IS NULL OR (mark >= 0 AND mark < 100)))"
)


def scaled(x: str) -> str:
    """A DECIMAL(38,18) as the HUGEINT of its value x 1e18 (exact)."""
    return (
        f"(CAST(trunc({x}) AS HUGEINT) * {E18} "
        f"+ CAST(({x} - trunc({x})) * CAST({E18} AS DECIMAL(19,0)) AS HUGEINT))"
    )


def from_scaled(s: str) -> str:
    """A HUGEINT count of 1e-18 as DECIMAL(38,18) (exact)."""
    return f"(CAST({s} AS DECIMAL(38,0)) * {_TO_DECIMAL})"


def long_division_layers(source: str, when: str) -> str:
    """A query over ``source`` adding ``basis_q``/``basis_r``/``basis_b``: floor, remainder
    and divisor of h x c / b for the rows where ``when`` holds (h, c, b: held, cost, bought
    scaled by 1e18; h < b). NULL on the other rows.

    Schoolbook division, one base-1e9 digit of c at a time, most significant first: with
    r < b, v = r x 1e9 + h x digit < 2 x b x 1e9, and v // b < 2e9 is estimated in floating
    point (relative error < 4e-16, so off by at most one) and corrected with the exact
    remainder v - q x b: no 128-bit division in the loop, which DuckDB does bit by bit.
    """
    # the digits come from cost's integer part and its 18 decimals, both BIGINT-sized
    query = (
        f"SELECT *, CASE WHEN {when} THEN {scaled('held')} END AS h, "
        f"CASE WHEN {when} THEN {scaled('bought')} END AS b, "
        f"CASE WHEN {when} THEN CAST(trunc(cost) AS BIGINT) END AS ci, "
        f"CASE WHEN {when} THEN CAST((cost - trunc(cost)) * CAST({E18} AS DECIMAL(19,0)) "
        f"AS BIGINT) END AS cf, CAST(0 AS HUGEINT) AS acc, CAST(0 AS HUGEINT) AS r "
        f"FROM {source}"
    )
    digits = [
        f"(ci // {DIGIT**2})",
        f"((ci // {DIGIT}) % {DIGIT})",
        f"(ci % {DIGIT})",
        f"(cf // {DIGIT})",
        f"(cf % {DIGIT})",
    ]
    for j, digit in zip(reversed(range(DIGITS)), digits, strict=True):
        query = f"SELECT * EXCLUDE (r), r * {DIGIT} + h * {digit} AS v FROM ({query})"
        query = (
            "SELECT *, CAST(floor(CAST(v AS DOUBLE) / CAST(b AS DOUBLE)) AS HUGEINT) AS qd "
            f"FROM ({query})"
        )
        query = f"SELECT * EXCLUDE (v), v - qd * b AS rem FROM ({query})"
        query = (
            "SELECT * EXCLUDE (qd, rem, acc), "
            f"acc + (qd + CASE WHEN rem < 0 THEN -1 WHEN rem >= b THEN 1 ELSE 0 END) "
            f"* {DIGIT**j} AS acc, "
            "CASE WHEN rem < 0 THEN rem + b WHEN rem >= b THEN rem - b ELSE rem END AS r "
            f"FROM ({query})"
        )
    return (
        "SELECT * EXCLUDE (h, ci, cf, acc, r), acc AS basis_q, r AS basis_r, b AS basis_b "
        f"FROM ({query})"
    )


def half_even(q: str, r: str, d: str) -> str:
    """q + r/d (0 <= r < d) rounded half-even to an integer."""
    return f"({q} + CASE WHEN 2 * {r} > {d} OR (2 * {r} = {d} AND {q} % 2 = 1) THEN 1 ELSE 0 END)"


def half_away(exact_at_18: str, tie: str) -> str:
    """The rounding of ``exact_at_18`` + a dropped part already rounded half up into it:
    ``tie`` says the dropped part was exactly half a quantum, which half away from zero rounds
    down instead when the total is negative (the total is then <= 0 at 18 places)."""
    return (
        f"({exact_at_18} - CASE WHEN {tie} AND {exact_at_18} <= 0 THEN {QUANTUM} "
        f"ELSE CAST(0 AS DECIMAL(38,18)) END)"
    )
