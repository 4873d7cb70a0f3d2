"""The pure halves of the abuse limits: the per-user token bucket, the AI quota's sliding
windows, and the settings that configure them (docs/abuse.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aimtrack.config import ConfigError, load_settings
from aimtrack.core.quota import DAY, HOUR, AIQuota, QuotaUsed, next_allowed
from aimtrack.core.ratelimit import Admission, RateLimit, RateLimiter

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def admissions(limiter: RateLimiter, key: object, count: int) -> list[Admission]:
    return [limiter.admit(key) for _ in range(count)]


def test_a_burst_is_admitted_then_one_warning_then_silence() -> None:
    limiter = RateLimiter(RateLimit(per_minute=30, burst=5), now=FakeMonotonic())
    seen = admissions(limiter, "anna", 500)
    assert seen[:5] == [Admission.ADMIT] * 5
    assert seen[5] is Admission.WARN
    assert set(seen[6:]) == {Admission.DROP}


def test_the_bucket_refills_at_the_rate_and_holds_no_more_than_the_burst() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(RateLimit(per_minute=30, burst=5), now=clock)
    admissions(limiter, "anna", 6)
    clock.at += 2.0  # 30 a minute: one token every two seconds
    assert admissions(limiter, "anna", 2) == [Admission.ADMIT, Admission.DROP]
    clock.at += 3600  # an hour of quiet fills the bucket, no more
    seen = admissions(limiter, "anna", 7)
    assert seen == [Admission.ADMIT] * 5 + [Admission.WARN, Admission.DROP]


def test_a_flood_over_a_minute_is_told_once_and_handled_at_the_rate() -> None:
    clock = FakeMonotonic()
    limit = RateLimit(per_minute=30, burst=20)
    limiter = RateLimiter(limit, now=clock)
    seen = []
    for _ in range(500):  # 500 messages evenly over one minute
        seen.append(limiter.admit("anna"))
        clock.at += 60 / 500
    admitted = seen.count(Admission.ADMIT)
    assert limit.burst + limit.per_minute - 1 <= admitted <= limit.burst + limit.per_minute
    assert seen.count(Admission.WARN) == 1


def test_users_have_their_own_buckets() -> None:
    limiter = RateLimiter(RateLimit(per_minute=1, burst=2), now=FakeMonotonic())
    admissions(limiter, ("telegram", "1"), 10)
    assert limiter.admit(("telegram", "2")) is Admission.ADMIT
    assert limiter.admit(("console", "1")) is Admission.ADMIT


def test_the_buckets_are_bounded_and_the_least_recently_used_goes() -> None:
    limiter = RateLimiter(RateLimit(per_minute=1, burst=1), now=FakeMonotonic(), max_keys=3)
    for key in ("a", "b", "c"):
        limiter.admit(key)
    assert limiter.admit("a") is Admission.WARN  # a is used again: b is now the oldest
    limiter.admit("d")
    assert len(limiter) == 3
    assert limiter.admit("a") is Admission.DROP  # a kept its empty bucket
    assert limiter.admit("b") is Admission.ADMIT  # b was forgotten: a fresh bucket


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (1, 0), (-5, 3)])
def test_a_rate_limit_needs_room_for_one_message(per_minute: int, burst: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        RateLimit(per_minute=per_minute, burst=burst)


# --- the AI quota -------------------------------------------------------------------------


def ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_a_request_fits_while_both_windows_have_room() -> None:
    quota = AIQuota(per_hour=3, per_day=10)
    assert next_allowed([], quota, now=NOW) is None
    assert next_allowed(ago(1, 2), quota, now=NOW) is None
    assert next_allowed(ago(1, 2, 61, 62, 63), quota, now=NOW) is None  # three left the hour


def test_a_full_hour_frees_up_when_its_oldest_counted_request_leaves() -> None:
    quota = AIQuota(per_hour=3, per_day=10)
    used = next_allowed(ago(5, 20, 50, 70), quota, now=NOW)
    assert used == QuotaUsed(again_at=NOW + timedelta(minutes=10), limit=3, window=HOUR)
    # one second before that moment it is still full, at it there is room
    assert next_allowed(ago(5, 20, 50, 70), quota, now=used.again_at - timedelta(seconds=1))
    assert next_allowed(ago(5, 20, 50, 70), quota, now=used.again_at) is None


def test_the_day_window_holds_when_it_frees_up_later() -> None:
    quota = AIQuota(per_hour=5, per_day=6)
    queued = ago(1, 2, 3, 4, 5, 23 * 60)  # the hour is full, and so is the day
    used = next_allowed(queued, quota, now=NOW)
    assert used is not None
    assert used.window == DAY
    assert used.limit == 6
    assert used.again_at == NOW - timedelta(minutes=23 * 60) + DAY


def test_the_order_of_the_queued_moments_does_not_matter() -> None:
    quota = AIQuota(per_hour=2, per_day=10)
    assert next_allowed(ago(50, 10, 30), quota, now=NOW) == next_allowed(
        ago(10, 30, 50), quota, now=NOW
    )


def test_an_ai_quota_needs_room_for_one_request() -> None:
    with pytest.raises(ValueError, match="at least one"):
        AIQuota(per_hour=0)


# --- settings -----------------------------------------------------------------------------


def test_the_settings_give_the_limits_with_their_defaults() -> None:
    settings = load_settings()
    assert settings.rate_limit == RateLimit(per_minute=30, burst=20)
    assert settings.ai_quota == AIQuota(per_hour=20, per_day=60)
    custom = load_settings(
        user_messages_per_minute=10,
        user_message_burst=3,
        ai_requests_per_hour=2,
        ai_requests_per_day=5,
    )
    assert custom.rate_limit == RateLimit(per_minute=10, burst=3)
    assert custom.ai_quota == AIQuota(per_hour=2, per_day=5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("user_messages_per_minute", 0),
        ("user_messages_per_minute", 601),
        ("user_message_burst", 0),
        ("user_message_burst", 1001),
        ("ai_requests_per_hour", 0),
        ("ai_requests_per_hour", 1001),
        ("ai_requests_per_day", 0),
        ("ai_requests_per_day", 10_001),
    ],
)
def test_limits_out_of_bounds_are_refused_by_name(name: str, value: int) -> None:
    with pytest.raises(ConfigError, match=f"AIMTRACK_{name.upper()}"):
        load_settings(**{name: value})


def test_a_day_quota_below_the_hour_quota_is_refused() -> None:
    with pytest.raises(ConfigError, match="AIMTRACK_AI_REQUESTS_PER_DAY must be at least"):
        load_settings(ai_requests_per_hour=30, ai_requests_per_day=10)
