import type { ResourcesConfig } from 'aws-amplify'
import type { AppConfig } from './api/types'

export class ConfigError extends Error {}

/** Fetch /config.json (written at deploy time, or served by the local server). */
export async function loadConfig(fetchImpl: typeof fetch = fetch, url = `${import.meta.env.BASE_URL}config.json`): Promise<AppConfig> {
  let res: Response
  try {
    res = await fetchImpl(url, { cache: 'no-store', headers: { Accept: 'application/json' } })
  } catch {
    throw new ConfigError(`Could not load ${url}: the server did not answer.`)
  }
  if (!res.ok) throw new ConfigError(`Could not load ${url} (HTTP ${res.status}).`)
  let body: unknown
  try {
    body = await res.json()
  } catch {
    throw new ConfigError(`${url} is not valid JSON.`)
  }
  return parseConfig(body)
}

export function parseConfig(body: unknown): AppConfig {
  if (!body || typeof body !== 'object') throw new ConfigError('config.json must be a JSON object.')
  const c = body as Record<string, unknown>
  const missing = ['apiBase', 'userPoolId', 'userPoolClientId'].filter((k) => typeof c[k] !== 'string' || !c[k])
  if (missing.length) throw new ConfigError(`config.json is missing ${missing.join(', ')}.`)
  const userPoolId = c.userPoolId as string
  const flow = c.authFlowType === 'USER_SRP_AUTH' || c.authFlowType === 'USER_PASSWORD_AUTH' ? c.authFlowType : undefined
  return {
    apiBase: c.apiBase as string,
    region: typeof c.region === 'string' && c.region ? c.region : userPoolId.split('_')[0],
    userPoolId,
    userPoolClientId: c.userPoolClientId as string,
    cognitoEndpoint: typeof c.cognitoEndpoint === 'string' && c.cognitoEndpoint ? c.cognitoEndpoint : undefined,
    environment: typeof c.environment === 'string' ? c.environment : undefined,
    authFlowType: flow,
  }
}

/** Local mode: the API and Cognito are emulated on this machine. */
export function isLocal(config: AppConfig): boolean {
  return config.environment === 'local' || !!config.cognitoEndpoint
}

/** The sign-in flow: USER_PASSWORD_AUTH against moto (its SRP is unverified), SRP when hosted. */
export function authFlowFor(config: AppConfig): 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH' {
  return config.authFlowType ?? (config.cognitoEndpoint ? 'USER_PASSWORD_AUTH' : 'USER_SRP_AUTH')
}

export function amplifyConfig(config: AppConfig): ResourcesConfig {
  return {
    Auth: {
      Cognito: {
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        ...(config.cognitoEndpoint ? { userPoolEndpoint: config.cognitoEndpoint } : {}),
        loginWith: { email: true },
      },
    },
  }
}
