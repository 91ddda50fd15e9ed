import { describe, expect, it, vi } from 'vitest'
import { decodeJwt, initiateAuthRefresher } from './localAuth'

const b64url = (o: object) => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const jwt = (payload: object) => `${b64url({ alg: 'RS256' })}.${b64url(payload)}.sig`

describe('local token refresher', () => {
  it('decodes JWT payloads (base64url, UTF-8)', () => {
    const t = jwt({ sub: 'u1', name: 'Zoë', iat: 1 })
    expect(decodeJwt(t).payload).toEqual({ sub: 'u1', name: 'Zoë', iat: 1 })
    expect(decodeJwt(t).toString()).toBe(t)
  })

  it('refreshes with InitiateAuth REFRESH_TOKEN_AUTH against the emulator', async () => {
    const now = Math.floor(Date.now() / 1000)
    const fetchMock = vi.fn(async (..._args: Parameters<typeof fetch>) =>
      new Response(JSON.stringify({ AuthenticationResult: { AccessToken: jwt({ iat: now }), IdToken: jwt({ email: 'demo@example.com', iat: now }) } })),
    )
    const refresh = initiateAuthRefresher('http://127.0.0.1:8000/cognito', 'client-1', fetchMock as unknown as typeof fetch)
    const out = await refresh({ tokens: { accessToken: decodeJwt(jwt({ iat: 0 })), refreshToken: 'rt-1' }, username: 'u1' } as never)
    const [url, init] = fetchMock.mock.calls[0]
    expect(url).toBe('http://127.0.0.1:8000/cognito')
    expect((init!.headers as Record<string, string>)['X-Amz-Target']).toBe('AWSCognitoIdentityProviderService.InitiateAuth')
    expect(JSON.parse(init!.body as string)).toEqual({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: 'client-1', AuthParameters: { REFRESH_TOKEN: 'rt-1' } })
    expect(out.idToken?.payload.email).toBe('demo@example.com')
    expect(out.refreshToken).toBe('rt-1')
    expect(out.username).toBe('u1')
  })

  it('fails like Cognito when the refresh token is refused', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ __type: 'com.amazon#NotAuthorizedException', message: 'Invalid Refresh Token' }), { status: 400 }))
    const refresh = initiateAuthRefresher('http://x', 'c', fetchMock as unknown as typeof fetch)
    const err = await refresh({ tokens: { accessToken: decodeJwt(jwt({})), refreshToken: 'bad' }, username: 'u' } as never).catch((e: Error) => e)
    expect(err).toMatchObject({ name: 'NotAuthorizedException', message: 'Invalid Refresh Token' })
  })
})
