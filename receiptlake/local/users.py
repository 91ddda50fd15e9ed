"""Local-mode users: created in moto's Cognito, signed in with USER_PASSWORD_AUTH.

A user's identity is the Cognito ``sub``; to keep a user's receipts across restarts
local mode recreates each user with the sub it had (moto runs in this process, so its
backend object can be given the saved id).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from receiptlake.local.provision import LocalResources, client


@dataclass(frozen=True)
class LocalUser:
    email: str
    password: str
    sub: str


def generate_password() -> str:
    """A password that satisfies the pool policy (12+, upper, lower, digit, symbol)."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(14))
    return f"Rl{core}7!"


def create_user(resources: LocalResources, email: str, password: str, *, sub: str | None = None) -> LocalUser:
    cognito = client("cognito-idp", resources.endpoint, resources.region)
    cognito.admin_create_user(
        UserPoolId=resources.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=resources.user_pool_id, Username=email, Password=password, Permanent=True
    )
    if sub is not None:
        _force_sub(resources, email, sub)
    attributes = cognito.admin_get_user(UserPoolId=resources.user_pool_id, Username=email)["UserAttributes"]
    actual = next(a["Value"] for a in attributes if a["Name"] == "sub")
    return LocalUser(email=email, password=password, sub=actual)


def _force_sub(resources: LocalResources, username: str, sub: str) -> None:
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    pool = cognitoidp_backends[DEFAULT_ACCOUNT_ID][resources.region].user_pools[resources.user_pool_id]
    user = next(
        u
        for u in pool.users.values()
        if u.username == username or u.attribute_lookup.get("email") == username
    )
    user.id = sub
    user.update_attributes([{"Name": "sub", "Value": sub}])


def sign_in(resources: LocalResources, email: str, password: str) -> dict[str, Any]:
    """The AuthenticationResult (IdToken, AccessToken, RefreshToken) of a password sign-in."""
    cognito = client("cognito-idp", resources.endpoint, resources.region)
    response = cognito.initiate_auth(
        ClientId=resources.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    result: dict[str, Any] = response["AuthenticationResult"]
    return result
