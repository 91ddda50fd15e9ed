import { describe, expect, it } from 'vitest'
import { amplifyConfig, authFlowFor, isLocal, loadConfig, parseConfig } from './config'

const hosted = { apiBase: '/api', region: 'eu-west-1', userPoolId: 'eu-west-1_abc', userPoolClientId: 'client', environment: 'prod' }
const local = { ...hosted, environment: 'local', cognitoEndpoint: 'http://127.0.0.1:8000/cognito' }

describe('config', () => {
  it('loads /config.json before anything else, without cache', async () => {
    let seen: RequestInit | undefined
    const f = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      seen = init
      return new Response(JSON.stringify(local))
    }) as typeof fetch
    const c = await loadConfig(f, '/config.json')
    expect(c.cognitoEndpoint).toBe('http://127.0.0.1:8000/cognito')
    expect(seen?.cache).toBe('no-store')
  })

  it('fails clearly when config.json is missing or incomplete', async () => {
    const missing = (async () => new Response('nope', { status: 404 })) as unknown as typeof fetch
    await expect(loadConfig(missing, '/config.json')).rejects.toThrow('Could not load /config.json (HTTP 404).')
    expect(() => parseConfig({ apiBase: '/api' })).toThrow('config.json is missing userPoolId, userPoolClientId.')
  })

  it('passes the local Cognito endpoint to Amplify and signs in with email', () => {
    const cog = amplifyConfig(parseConfig(local)).Auth!.Cognito
    expect(cog).toMatchObject({ userPoolId: 'eu-west-1_abc', userPoolClientId: 'client', userPoolEndpoint: 'http://127.0.0.1:8000/cognito', loginWith: { email: true } })
    expect('userPoolEndpoint' in amplifyConfig(parseConfig(hosted)).Auth!.Cognito).toBe(false)
  })

  it('uses USER_PASSWORD_AUTH locally, SRP when hosted, unless config says otherwise', () => {
    expect(authFlowFor(parseConfig(local))).toBe('USER_PASSWORD_AUTH')
    expect(authFlowFor(parseConfig(hosted))).toBe('USER_SRP_AUTH')
    expect(authFlowFor(parseConfig({ ...hosted, authFlowType: 'USER_PASSWORD_AUTH' }))).toBe('USER_PASSWORD_AUTH')
    expect(isLocal(parseConfig(local))).toBe(true)
    expect(isLocal(parseConfig(hosted))).toBe(false)
  })

  it('derives the region from the pool id when absent', () => {
    expect(parseConfig({ ...hosted, region: undefined }).region).toBe('eu-west-1')
  })
})
