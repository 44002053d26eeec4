#!/usr/bin/env python3
"""Independent reference for amortisation.rs (DESIGN.md "Money and time", amortisation convention).

    python3 src/amortisation_reference.py          # prints the Rust rows of REFERENCE
    python3 src/amortisation_reference.py --bulk N # N random cases, "principal rate months payment
                                                   # total_interest last_amount" per line

Convention: monthly rate r = annual / 12; level payment A = P*r / (1 - (1 + r)**-n) rounded
half-even to the minor unit (P / n when r = 0); each month's interest = opening balance * r rounded
half-even; principal = A - interest; the last installment = remaining balance + its interest.

The level payment is computed twice and must agree: with the decimal module at 50 significant
digits, literally as the formula is written, and exactly with fractions.Fraction. Where the exact
value is a rounding tie (x.5 minor units) the 50-digit value can land a hair either side of it, so
the exact value decides and the row is marked "exact tie". Interest uses annual / 12 exactly
(balance * annual / 12), as the convention means r = annual / 12, not a truncated 0.00833...
"""

import random
import sys
from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from fractions import Fraction

getcontext().prec = 50


def half_even(value: Fraction) -> int:
    floor = value.numerator // value.denominator
    remainder = value - floor
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and floor % 2 == 1):
        return floor + 1
    return floor


def payment_decimal(principal: int, annual: str, months: int) -> int:
    if Decimal(annual) == 0:
        return int((Decimal(principal) / months).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    r = Decimal(annual) / 12
    a = Decimal(principal) * r / (1 - (1 + r) ** -months)
    return int(a.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def payment_exact(principal: int, annual: str, months: int) -> tuple[int, bool]:
    if Fraction(annual) == 0:
        value = Fraction(principal, months)
    else:
        r = Fraction(annual) / 12
        value = principal * r / (1 - (1 + r) ** -months)
    tie = (value - value.numerator // value.denominator) == Fraction(1, 2)
    return half_even(value), tie


def schedule(principal: int, annual: str, months: int, payment: int):
    """Returns (total_interest, last_amount), or None where the convention has no valid schedule
    (the rounded payment is zero or repays the amount before the last month)."""
    if payment == 0:
        return None
    balance, total = principal, 0
    for month in range(1, months + 1):
        interest = half_even(Fraction(balance) * Fraction(annual) / 12)
        total += interest
        if month == months:
            return total, balance + interest
        part = payment - interest
        if part < 0 or part >= balance:
            return None
        balance -= part
    raise AssertionError("unreachable")


def reference(principal: int, annual: str, months: int):
    literal = payment_decimal(principal, annual, months)
    exact, tie = payment_exact(principal, annual, months)
    assert tie or literal == exact, (principal, annual, months, literal, exact)
    return exact, tie, schedule(principal, annual, months, exact)


CASES = [
    ("EUR 10 000.00 at 12.99 % over 24 months", 1_000_000, "0.1299", 24),
    ("EUR 10 000.00 at 12.99 % over 60 months", 1_000_000, "0.1299", 60),
    ("JPY 1 500 000 at 1.8 % over 36 months", 1_500_000, "0.018", 36),
    ("KWD 2 500.750 at 7.5 % over 12 months", 2_500_750, "0.075", 12),
    ("EUR 10 000.00 at 0 % over 7 months", 1_000_000, "0", 7),
    ("EUR 50 000.00 at 99 % over 480 months", 5_000_000, "0.99", 480),
    ("EUR 0.01 at 12.99 % over 1 month", 1, "0.1299", 1),
    ("EUR 90 000 000.00 at 4.5 % over 360 months", 9_000_000_000, "0.045", 360),
    ("EUR 100.50 at 12 % over 2 months (exact tie 51.005)", 10_050, "0.12", 2),
    ("JPY 180 at 10 % over 1 month (ties in payment and interest)", 180, "0.1", 1),
    ("KWD 1 234.567 at 10 % over 18 months (r = 0.00833...)", 1_234_567, "0.1", 18),
    ("JPY 1 000 000 000 000 at 24.99 % over 480 months", 1_000_000_000_000, "0.2499", 480),
    ("KWD 750.125 at 33.33333333 % over 13 months (10 decimals)", 750_125, "0.3333333333", 13),
    ("EUR 1 234 567.89 at 0.00000001 % over 480 months", 123_456_789, "0.0000000001", 480),
    ("EUR 999.99 at 5.99 % over 120 months", 99_999, "0.0599", 120),
    ("JPY 123 456 at 29.9 % over 60 months", 123_456, "0.299", 60),
]

# No valid schedule under the convention: the payment's rounding (3 084.505... -> 3 085) compounds
# at r for 240 months and repays the loan in month 238, before the last installment.
REFUSED = [
    ("JPY 123 456 at 29.9 % over 240 months", 123_456, "0.299", 240),
    ("EUR 0.04 at 0 % over 6 months (0.67 rounds up to 1)", 4, "0", 6),
    ("EUR 0.01 at 0 % over 7 months (payment rounds to 0)", 1, "0", 7),
]


def print_rust_rows() -> None:
    for case, principal, annual, months in CASES:
        payment, tie, outcome = reference(principal, annual, months)
        assert outcome is not None, case
        total_interest, last_amount = outcome
        note = "  // exact tie" if tie else ""
        print(
            f"        Reference {{ case: \"{case}\", principal: {principal:_}, rate: \"{annual}\", "
            f"months: {months}, level_payment: {payment:_}, total_interest: {total_interest:_}, "
            f"last_amount: {last_amount:_} }},{note}"
        )
    print("        // Refused (no valid schedule):")
    for case, principal, annual, months in REFUSED:
        payment, _, outcome = reference(principal, annual, months)
        assert outcome is None, case
        print(
            f"        Refused {{ case: \"{case}\", principal: {principal:_}, rate: \"{annual}\", "
            f"months: {months}, level_payment: {payment:_} }},"
        )


def print_bulk(count: int) -> None:
    rng = random.Random(20240604)
    for _ in range(count):
        principal = rng.choice([rng.randint(1, 10**12), int(10 ** rng.uniform(0, 12))])
        decimals = rng.randint(0, 10)
        annual = "0" if decimals == 0 else f"0.{rng.randrange(10**decimals):0{decimals}d}"
        months = rng.choice([rng.randint(1, 480), rng.randint(1, 24)])
        payment, _, outcome = reference(principal, annual, months)
        total_interest, last_amount = outcome if outcome else ("-", "-")
        print(principal, annual, months, payment, total_interest, last_amount)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bulk":
        print_bulk(int(sys.argv[2]))
    else:
        print_rust_rows()
