"""Who is calling: the Cognito ``sub`` of a verified ID token, never a request field.

* ``apigw``: API Gateway's JWT authorizer has already checked signature, issuer, audience
  and expiry; Mangum hands us the Lambda event as ``scope["aws.event"]`` and the claims
  are in ``requestContext.authorizer.jwt.claims``.
* ``verify`` (local mode, no authorizer in front): the same checks done here, RS256
  against the pool's JWKS.

Both modes also insist on ``token_use == "id"``: the authorizer would accept an access
token whose ``client_id`` matches, but the contract is the ID token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request

from lambda_src.api.problems import Problem
from lambda_src.api.settings import AuthMode, Settings

_BEARER_CHALLENGE = 'Bearer realm="receiptlake"'


@dataclass(frozen=True)
class Caller:
    sub: str
    email: str | None = None


class SigningKeys(Protocol):
    """Where the verification key for a token comes from (``jwt.PyJWKClient`` fits)."""

    def get_signing_key_from_jwt(self, token: str) -> Any: ...


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        detail,
        kind="unauthorized",
        headers={"WWW-Authenticate": f'{_BEARER_CHALLENGE}, error="invalid_token"'},
    )


def _caller_from_claims(claims: dict[str, Any]) -> Caller:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 128:
        raise _unauthorized("The token does not name a user. Sign in again.")
    if claims.get("token_use") != "id":
        raise _unauthorized("Send the ID token from sign-in, not the access token.")
    email = claims.get("email")
    return Caller(sub=sub, email=email if isinstance(email, str) else None)


class Authenticator:
    def __init__(self, settings: Settings, keys: SigningKeys | None) -> None:
        self.mode = settings.auth_mode
        self.issuer = settings.cognito_issuer
        self.audience = settings.cognito_client_id
        self.leeway = settings.jwt_leeway_seconds
        self.keys = keys

    @property
    def blocking(self) -> bool:
        """Whether a call may wait on the network: verifying a token may first fetch the
        signing keys; API Gateway's claims are only read."""
        return self.mode is not AuthMode.APIGW

    def __call__(self, request: Request) -> Caller:
        if self.mode is AuthMode.APIGW:
            return self._from_authorizer(request)
        return self._verify(request)

    def _from_authorizer(self, request: Request) -> Caller:
        event = request.scope.get("aws.event") or {}
        claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
        if not isinstance(claims, dict):
            # Only reachable if a route were deployed without the authorizer.
            raise _unauthorized("Sign in to use this API.")
        return _caller_from_claims(claims)

    def _verify(self, request: Request) -> Caller:
        # Imported here: only local mode verifies tokens, and PyJWT pulls in cryptography,
        # which the Lambda bundle (apigw mode) does without.
        import jwt

        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(
                401,
                "Sign in and send the ID token as 'Authorization: Bearer <token>'.",
                kind="unauthorized",
                headers={"WWW-Authenticate": _BEARER_CHALLENGE},
            )
        token = token.strip()
        assert self.keys is not None
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("Your session has expired. Sign in again.") from exc
        except jwt.InvalidAudienceError as exc:
            raise _unauthorized("The token was issued for another application.") from exc
        except jwt.InvalidIssuerError as exc:
            raise _unauthorized("The token was issued by another user pool.") from exc
        except jwt.PyJWKClientConnectionError as exc:
            raise Problem(503, "The sign-in service cannot be reached; try again shortly.") from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise _unauthorized("The token is not valid. Sign in again.") from exc
        return _caller_from_claims(claims)
