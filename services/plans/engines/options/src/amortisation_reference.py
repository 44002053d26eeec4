#!/usr/bin/env python3
"""Independent reference for amortisation.rs and options.rs (DESIGN.md "Money and time",
amortisation convention; "Affordability and options").

    python3 src/amortisation_reference.py          # prints the Rust rows of REFERENCE
    python3 src/amortisation_reference.py --bulk N # N random cases, "principal rate months
                                                          # payment total_interest last_amount"
    python3 src/amortisation_reference.py --options < cases.jsonl
        # every option kind of GetPlanOptions for each case (one JSON object a line), as JSON
        # lines; see "Plan options" below. options.rs's reference_check test drives this mode.

Convention: monthly rate r = annual / 12; level payment A = P*r / (1 - (1 + r)**-n) rounded
half-even to the minor unit (P / n when r = 0); each month's interest = opening balance * r rounded
half-even; principal = A - interest; the last installment = remaining balance + its interest.

The level payment is computed twice and must agree: with the decimal module at 50 significant
digits, literally as the formula is written, and exactly with fractions.Fraction. Where the exact
value is a rounding tie (x.5 minor units) the 50-digit value can land a hair either side of it, so
the exact value decides and the row is marked "exact tie". Interest uses annual / 12 exactly
(balance * annual / 12), as the convention means r = annual / 12, not a truncated 0.00833...
"""

import calendar
import datetime
import json
import math
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



# ---------------------------------------------------------------- plan options
#
# The options engine (options.rs) written a second time from its specification, not from its code.
# Every schedule row is (due date, opening balance, amount, interest, principal, closing balance):
# interest = opening * r rounded half-even (0 while frozen), principal = amount - interest,
# closing = opening - principal, the next opening = this closing. The first opening is what is
# owed (for a payment holiday, what is owed when payments resume). What is still owed when the
# schedule ends is its last closing balance (the balance itself without a schedule); 0 means the
# option pays the debt off.
#
# Per kind (d = disposable income; base = remaining term, or the revolving term when 0;
# cap = min(base + max_extension_months, max_term_months), at least base; payments fall on the
# customer's payday, the first one strictly after today):
# - every kind but token payment and breathing space: no statement -> NEEDS_STATEMENT,
#   d <= 0 -> NO_DISPOSABLE_INCOME; a schedule the convention refuses (the rounded payment is 0
#   or repays the amount before its last month) -> BALANCE_TOO_SMALL_TO_SPREAD;
# - catch-up: n = min(max_catch_up_months, base) payments sharing T = contractual * n + arrears by
#   the convention at r = 0 (A = T / n half-even, the last T - (n - 1) * A), at the contract rate
#   on the real balance. A payment that would clear the balance is cut to balance + interest and
#   ends the plan; when the plan ends with the loan's term, the last payment is what is owed.
#   What remains goes back to the contractual payment (CONTRACT_RESUMES). No arrears ->
#   NO_ARREARS; a payment below its month's interest -> CATCH_UP_DOES_NOT_COVER_INTEREST; an
#   installment above d -> CATCH_UP_NOT_AFFORDABLE;
# - reduced payment: the balance at r = 0 by the convention over the fewest months from
#   max(base, ceil(balance / d)) whose installments all fit d; beyond cap ->
#   REDUCED_PAYMENT_NOT_AFFORDABLE;
# - term extension: the balance re-amortised at the contract rate over the shortest term >= base
#   whose level payment fits d, lengthened while the last installment does not fit; the level
#   payment at cap above d (or nothing fitting up to cap) -> TERM_EXTENSION_NOT_AFFORDABLE; the
#   shortest term being base -> TERM_EXTENSION_NOT_NEEDED; a monthly amount not below the
#   contractual payment -> TERM_EXTENSION_DOES_NOT_LOWER_PAYMENT;
# - payment holiday: holiday_months without payments (interest compounds monthly unless
#   protected), then the balance re-amortised over base from the first payday after
#   today + holiday_months + 1 day; above d -> PAYMENT_HOLIDAY_NOT_AFFORDABLE;
# - interest and fee freeze: min(contractual, balance) a month at r = 0, the last what is left;
#   above d -> INTEREST_FEE_FREEZE_NOT_AFFORDABLE, more than cap months ->
#   INTEREST_FEE_FREEZE_TOO_LONG;
# - settlement: one payment of balance * (1 - discount) half-even (at least 1, at most the
#   balance); the discount is FORGIVEN; above d -> SETTLEMENT_LUMP_SUM_NOT_AFFORDABLE;
# - token payment: only when there is no statement, d <= 0, a protection is in force or no other
#   kind is offered (else TOKEN_PAYMENT_NOT_NEEDED); the token amount (no statement),
#   min(token, d), or nothing when d <= 0, on every payday after today up to
#   today + review_after_days, never more than the balance, at r = 0; the rest is agreed at the
#   REVIEW;
# - breathing space: no schedule, the balance waits for the REVIEW; protected ->
#   ALREADY_PROTECTED, one used in the last 12 months -> BREATHING_SPACE_USED_IN_LAST_12_MONTHS.


class Excluded(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator (both >= 0, denominator > 0) to the nearest integer, ties to even."""
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


class Rate:
    """A nominal annual rate; the monthly rate is annual / 12 exactly."""

    def __init__(self, text: str):
        self.text = text
        self.monthly = Fraction(text) / 12

    def is_zero(self) -> bool:
        return self.monthly == 0

    def interest(self, balance: int) -> int:
        return round_half_even(balance * self.monthly.numerator, self.monthly.denominator)

    def level_payment(self, principal: int, months: int) -> int:
        """The convention's level payment, exactly; checked against the literal 50-digit formula."""
        if self.is_zero():
            return round_half_even(principal, months)
        a, b = self.monthly.numerator, self.monthly.denominator
        grown = (a + b) ** months
        exact = round_half_even(principal * a * grown, b * (grown - b**months))
        literal = payment_decimal(principal, self.text, months)
        if literal != exact:
            _, tie = payment_exact(principal, self.text, months)
            assert tie, (principal, self.text, months, literal, exact)
        return exact


def convention_rows(principal: int, rate: Rate, months: int):
    """(opening, amount, interest, principal, closing) rows of the convention's schedule, or
    raises BALANCE_TOO_SMALL_TO_SPREAD where it has none."""
    payment = rate.level_payment(principal, months)
    if payment == 0:
        raise Excluded("BALANCE_TOO_SMALL_TO_SPREAD")
    rows, balance = [], principal
    for month in range(1, months + 1):
        interest = rate.interest(balance)
        if month == months:
            rows.append((balance, balance + interest, interest, balance, 0))
            return rows
        part = payment - interest
        if part < 0 or part >= balance:
            raise Excluded("BALANCE_TOO_SMALL_TO_SPREAD")
        rows.append((balance, payment, interest, part, balance - part))
        balance -= part
    raise AssertionError("unreachable")


def paid_rows(balance: int, rate: Rate, payments: list[int], clear_at_end: bool):
    """Rows for the given payments against a balance bearing interest at rate: a payment that
    would clear the balance is cut to what is owed and ends the schedule; with clear_at_end the
    last payment is what is owed."""
    rows = []
    for index, payment in enumerate(payments):
        interest = rate.interest(balance)
        owed = balance + interest
        if owed <= payment or (clear_at_end and index == len(payments) - 1):
            rows.append((balance, owed, interest, balance, 0))
            return rows
        if payment < interest:
            raise Excluded("PAYMENT_BELOW_INTEREST")
        principal = payment - interest
        rows.append((balance, payment, interest, principal, balance - principal))
        balance -= principal
    return rows


def spread(total: int, parts: int) -> list[int]:
    """total in parts by the convention at r = 0: total / parts half-even, the last the rest."""
    level = round_half_even(total, parts)
    last = total - (parts - 1) * level
    if level == 0 or last <= 0:
        raise Excluded("BALANCE_TOO_SMALL_TO_SPREAD")
    return [level] * (parts - 1) + [last]


def clamped(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def paydays(on_or_after: datetime.date, payday: int):
    """Every payday (clamped to the end of short months) on or after a date, in order."""
    year, month = on_or_after.year, on_or_after.month
    if clamped(year, month, payday) < on_or_after:
        year, month = next_month(year, month)
    while True:
        yield clamped(year, month, payday)
        year, month = next_month(year, month)


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return clamped(day.year + index // 12, index % 12 + 1, day.day)


def dated(rows, start: datetime.date, payday: int):
    return [[due.isoformat(), *row] for due, row in zip(paydays(start, payday), rows)]


def options_reference(case: dict) -> dict:
    """Every kind of one case: {"offered": True, "rows", "remaining", "after"} or
    {"offered": False, "code"}."""
    config = case["config"]
    balance, arrears, contractual = case["balance"], case["arrears"], case["contractual"]
    rate = Rate(case["rate"])
    disposable, protected = case["disposable"], case["protected"]
    today = datetime.date.fromisoformat(case["today"])
    payday = case["payday"]
    base = case["remaining_term"] or config["revolving_term_months"]
    cap = max(min(base + config["max_extension_months"], config["max_term_months"]), base)
    first_after = today + datetime.timedelta(days=1)

    def offered(rows, start, after):
        remaining = rows[-1][4] if rows else balance
        return {
            "offered": True,
            "rows": dated(rows, start, payday),
            "remaining": remaining,
            "after": "PAID_OFF" if remaining == 0 else after,
        }

    def fits(rows) -> bool:
        return max(row[1] for row in rows) <= disposable

    def catch_up():
        if arrears == 0:
            raise Excluded("NO_ARREARS")
        months = min(config["max_catch_up_months"], base)
        payments = spread(contractual * months + arrears, months)
        ends_with_term = case["remaining_term"] == months
        try:
            rows = paid_rows(balance, rate, payments, ends_with_term)
        except Excluded:
            raise Excluded("CATCH_UP_DOES_NOT_COVER_INTEREST")
        if not fits(rows):
            raise Excluded("CATCH_UP_NOT_AFFORDABLE")
        return offered(rows, first_after, "CONTRACT_RESUMES")

    def reduced_payment():
        months = max(base, -(-balance // disposable))
        while True:
            if months > cap:
                raise Excluded("REDUCED_PAYMENT_NOT_AFFORDABLE")
            parts = spread(balance, months)
            if max(parts) <= disposable:
                return offered(paid_rows(balance, Rate("0"), parts, False), first_after, None)
            months += 1

    def term_extension():
        if rate.level_payment(balance, cap) > disposable:
            raise Excluded("TERM_EXTENSION_NOT_AFFORDABLE")
        # The shortest term: estimated from the annuity formula in floating point, then settled
        # by exact payments on either side.
        r = float(rate.monthly)
        if r == 0:
            estimate = balance / disposable
        else:
            ratio = balance * r / disposable
            estimate = -math.log1p(-ratio) / math.log1p(r) if ratio < 1 else cap
        months = min(max(math.ceil(estimate), base), cap)
        while months > base and rate.level_payment(balance, months - 1) <= disposable:
            months -= 1
        while rate.level_payment(balance, months) > disposable:
            months += 1
        if months == base:
            raise Excluded("TERM_EXTENSION_NOT_NEEDED")
        while True:
            rows = convention_rows(balance, rate, months)
            if fits(rows):
                break
            if months >= cap:
                raise Excluded("TERM_EXTENSION_NOT_AFFORDABLE")
            months += 1
        if rows[0][1] >= contractual:
            raise Excluded("TERM_EXTENSION_DOES_NOT_LOWER_PAYMENT")
        return offered(rows, first_after, None)

    def payment_holiday():
        owed = balance
        if not protected:
            for _ in range(config["holiday_months"]):
                owed += rate.interest(owed)
        rows = convention_rows(owed, rate, base)
        if not fits(rows):
            raise Excluded("PAYMENT_HOLIDAY_NOT_AFFORDABLE")
        resume = add_months(today, config["holiday_months"]) + datetime.timedelta(days=1)
        return offered(rows, resume, None)

    def interest_fee_freeze():
        payment = min(contractual, balance)
        if payment > disposable:
            raise Excluded("INTEREST_FEE_FREEZE_NOT_AFFORDABLE")
        months = -(-balance // payment)
        if months > cap:
            raise Excluded("INTEREST_FEE_FREEZE_TOO_LONG")
        payments = [payment] * (months - 1) + [balance - payment * (months - 1)]
        return offered(paid_rows(balance, Rate("0"), payments, False), first_after, None)

    def settlement():
        owed = balance * (1 - Fraction(config["settlement_discount"]))
        lump = min(max(round_half_even(owed.numerator, owed.denominator), 1), balance)
        if lump > disposable:
            raise Excluded("SETTLEMENT_LUMP_SUM_NOT_AFFORDABLE")
        rows = [(balance, lump, 0, lump, balance - lump)]
        return offered(rows, first_after, "FORGIVEN")

    def token_payment(resolving: int):
        if not (disposable is None or disposable <= 0 or protected or resolving == 0):
            raise Excluded("TOKEN_PAYMENT_NOT_NEEDED")
        if disposable is None:
            amount = config["token_amount"]
        else:
            amount = max(min(config["token_amount"], disposable), 0)
        review = today + datetime.timedelta(days=config["review_after_days"])
        payments, left = [], balance
        if amount > 0:
            for due in paydays(first_after, payday):
                if due > review or left == 0:
                    break
                payments.append(min(amount, left))
                left -= payments[-1]
        return offered(paid_rows(balance, Rate("0"), payments, False), first_after, "REVIEW")

    def breathing_space():
        if protected:
            raise Excluded("ALREADY_PROTECTED")
        if case["breathing_space_used"]:
            raise Excluded("BREATHING_SPACE_USED_IN_LAST_12_MONTHS")
        return offered([], first_after, "REVIEW")

    resolving_kinds = {
        "CATCH_UP": catch_up,
        "REDUCED_PAYMENT": reduced_payment,
        "TERM_EXTENSION": term_extension,
        "PAYMENT_HOLIDAY": payment_holiday,
        "INTEREST_FEE_FREEZE": interest_fee_freeze,
        "SETTLEMENT": settlement,
    }
    answer = {}
    for kind, build in resolving_kinds.items():
        try:
            if disposable is None:
                raise Excluded("NEEDS_STATEMENT")
            if disposable <= 0:
                raise Excluded("NO_DISPOSABLE_INCOME")
            answer[kind] = build()
        except Excluded as excluded:
            answer[kind] = {"offered": False, "code": excluded.code}
    resolving = sum(1 for outcome in answer.values() if outcome["offered"])
    holding_kinds = {
        "TOKEN_PAYMENT": lambda: token_payment(resolving),
        "BREATHING_SPACE": breathing_space,
    }
    for kind, build in holding_kinds.items():
        try:
            answer[kind] = build()
        except Excluded as excluded:
            answer[kind] = {"offered": False, "code": excluded.code}
    return {"id": case["id"], "kinds": answer}


def answer_options() -> None:
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(options_reference(json.loads(line)), separators=(",", ":")))

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bulk":
        print_bulk(int(sys.argv[2]))
    elif len(sys.argv) == 2 and sys.argv[1] == "--options":
        answer_options()
    else:
        print_rust_rows()
