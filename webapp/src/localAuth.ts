// Local mode only (loaded on demand when config.json names a cognitoEndpoint).
//
// Amplify JS 6.2x refreshes tokens with Cognito's GetTokensFromRefreshToken, which moto
// 5.2 does not implement (the local session would end when the ID token expires, after
// an hour). Against the emulator, refresh with InitiateAuth REFRESH_TOKEN_AUTH instead,
// which moto supports. Hosted deployments keep Amplify's own refresher.
import { cognitoUserPoolsTokenProvider } from 'aws-amplify/auth/cognito'
import type { AppConfig } from './api/types'

type Refresher = Parameters<typeof cognitoUserPoolsTokenProvider.tokenOrchestrator.setTokenRefresher>[0]
type Tokens = Awaited<ReturnType<Refresher>>

export function decodeJwt(token: string): { payload: Record<string, unknown>; toString: () => string } {
  const part = token.split('.')[1]
  if (!part) throw new Error('not a JWT')
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=')
  const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))
  return { payload: JSON.parse(json) as Record<string, unknown>, toString: () => token }
}

export function initiateAuthRefresher(endpoint: string, clientId: string, fetchImpl: typeof fetch = (...a) => fetch(...a)): Refresher {
  return async ({ tokens, username }) => {
    const refreshToken = tokens.refreshToken
    if (!refreshToken) throw new Error('No refresh token: please sign in again.')
    const res = await fetchImpl(endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
      },
      body: JSON.stringify({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }),
    })
    const body = (await res.json().catch(() => ({}))) as {
      AuthenticationResult?: { AccessToken?: string; IdToken?: string; RefreshToken?: string }
      message?: string
      __type?: string
    }
    const result = body.AuthenticationResult
    if (!res.ok || !result?.AccessToken) {
      const err = new Error(body.message ?? `Token refresh failed (HTTP ${res.status})`)
      err.name = body.__type?.split('#').pop() ?? 'NotAuthorizedException'
      throw err
    }
    const accessToken = decodeJwt(result.AccessToken)
    const iat = Number(accessToken.payload.iat ?? 0)
    return {
      accessToken,
      idToken: result.IdToken ? decodeJwt(result.IdToken) : undefined,
      clockDrift: iat ? iat * 1000 - Date.now() : 0,
      refreshToken: result.RefreshToken ?? refreshToken,
      username,
    } as Tokens
  }
}

export function installLocalTokenRefresher(config: AppConfig): void {
  if (!config.cognitoEndpoint) return
  cognitoUserPoolsTokenProvider.tokenOrchestrator.setTokenRefresher(initiateAuthRefresher(config.cognitoEndpoint, config.userPoolClientId))
}
