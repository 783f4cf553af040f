"""Challenge lifetime boundaries, with a controlled clock (the domain service, no HTTP)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import botocore.session
import pytest
from devicekeys.challenges import ChallengeService
from devicekeys.errors import ChallengeExpired, ChallengeNotFound
from devicekeys.models import build_models
from devicekeys.settings import Settings


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def service_and_clock(dynamodb: Any) -> tuple[ChallengeService, Clock]:
    clock = Clock(1_800_000_000.0)
    models = build_models(Settings.from_env())
    return ChallengeService(models.challenge, models.connection, ttl_seconds=120, clock=clock), clock


@pytest.mark.parametrize(
    ("elapsed", "usable"), [(0, True), (119.999, True), (120, False), (121, False), (10_000, False)]
)
def test_a_challenge_is_usable_strictly_within_its_ttl(
    service_and_clock: tuple[ChallengeService, Clock], elapsed: float, usable: bool
) -> None:
    service, clock = service_and_clock
    issued = service.issue("alice", purpose="verify")
    assert issued.expires_in == 120 and issued.expires_at.timestamp() == 1_800_000_120
    clock.now += elapsed
    if usable:
        service.consume(issued.challenge, user_id="alice", purpose="verify")
    else:
        with pytest.raises(ChallengeExpired):
            service.consume(issued.challenge, user_id="alice", purpose="verify")
    # either way it is gone
    with pytest.raises(ChallengeNotFound):
        service.consume(issued.challenge, user_id="alice", purpose="verify")


def test_a_challenge_is_bound_to_its_user_and_purpose_and_consumed_by_a_mismatch(
    service_and_clock: tuple[ChallengeService, Clock],
) -> None:
    service, _ = service_and_clock
    for user, purpose in (("bob", "verify"), ("alice", "register")):
        issued = service.issue("alice", purpose="verify")
        with pytest.raises(ChallengeNotFound, match="not issued for this user and purpose"):
            service.consume(issued.challenge, user_id=user, purpose=purpose)
        with pytest.raises(ChallengeNotFound):
            service.consume(issued.challenge, user_id="alice", purpose="verify")


def test_all_models_share_one_dynamodb_client(dynamodb: Any) -> None:
    # one botocore client per process: DynamoDB's service model is loaded once per cold start
    created: list[str] = []
    original = botocore.session.Session.create_client

    def counting(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        created.append(service_name)
        return original(session, service_name, *args, **kwargs)

    with mock.patch.object(botocore.session.Session, "create_client", counting):
        models = build_models(Settings.from_env())
        ChallengeService(models.challenge, models.connection, ttl_seconds=120).issue("alice", purpose="verify")
        assert models.device_key.count("alice") == 0
        assert models.device_counter.count("alice") == 0
    assert created == ["dynamodb"]
