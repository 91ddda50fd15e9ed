import { fetchAuthSession } from 'aws-amplify/auth'

/** The current ID token (refreshed by Amplify when needed), or null when signed out. */
export async function getIdToken(): Promise<string | null> {
  const session = await fetchAuthSession()
  return session.tokens?.idToken?.toString() ?? null
}

export interface SignedInUser {
  email: string | null
  sub: string | null
}

export async function currentUser(): Promise<SignedInUser | null> {
  try {
    const session = await fetchAuthSession()
    const payload = session.tokens?.idToken?.payload
    if (!payload) return null
    return {
      email: typeof payload.email === 'string' ? payload.email : null,
      sub: typeof payload.sub === 'string' ? payload.sub : null,
    }
  } catch {
    return null
  }
}
