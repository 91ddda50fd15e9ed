import { act, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { Amplify } from 'aws-amplify'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { amplifyConfig } from './config'
import type { AppConfig } from './api/types'

const auth = vi.hoisted(() => ({ user: null as null | { email: string; sub: string }, listeners: [] as Array<(e: { payload: { event: string } }) => void> }))

vi.mock('./auth', () => ({
  currentUser: vi.fn(async () => auth.user),
  getIdToken: vi.fn(async () => 'token'),
}))
vi.mock('aws-amplify/utils', () => ({
  Hub: {
    listen: (_channel: string, cb: (e: { payload: { event: string } }) => void) => {
      auth.listeners.push(cb)
      return () => {}
    },
  },
}))
const signInMock = vi.hoisted(() => vi.fn(async (..._a: unknown[]) => ({ isSignedIn: false, nextStep: { signInStep: 'CONFIRM_SIGN_IN_WITH_TOTP_CODE' } })))
vi.mock('aws-amplify/auth', async (orig) => ({ ...(await orig<object>()), signIn: signInMock, signOut: vi.fn(async () => undefined) }))

const { Root } = await import('./Root')

const local: AppConfig = {
  apiBase: '/api',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_x',
  userPoolClientId: 'c',
  cognitoEndpoint: 'http://127.0.0.1:8000/cognito',
  environment: 'local',
}

describe('Root', () => {
  beforeAll(() => Amplify.configure(amplifyConfig(local)))
  beforeEach(() => {
    signInMock.mockClear()
    auth.user = null
    auth.listeners = []
  })

  it('shows the Amplify Authenticator without sign-up in local mode', async () => {
    render(<Root config={local} />)
    expect(await screen.findByTestId('sign-in', {}, { timeout: 10_000 })).toBeInTheDocument()
    expect(await screen.findByRole('button', { name: 'Sign in' }, { timeout: 10_000 })).toBeInTheDocument()
    expect(screen.getByLabelText('Email')).toBeInTheDocument()
    expect(screen.getByLabelText('Password')).toBeInTheDocument()
    expect(screen.queryByRole('tab', { name: 'Create Account' })).not.toBeInTheDocument()
  })

  it('opens the app when signed in, and returns to sign-in on sign-out', async () => {
    auth.user = { email: 'demo@example.com', sub: 'u1' }
    render(<Root config={local} />)
    expect(await screen.findByText('demo@example.com')).toBeInTheDocument()
    auth.user = null
    await act(async () => auth.listeners.forEach((l) => l({ payload: { event: 'signedOut' } })))
    expect(await screen.findByTestId('sign-in', {}, { timeout: 10_000 })).toBeInTheDocument()
  })

  it('signs in with USER_PASSWORD_AUTH through the Authenticator in local mode', async () => {
    render(<Root config={local} />)
    await userEvent.type(await screen.findByLabelText('Email', {}, { timeout: 10_000 }), 'demo@example.com')
    await userEvent.type(screen.getByLabelText('Password'), 'Demo-pass-123!')
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    await waitFor(() => expect(signInMock).toHaveBeenCalled())
    expect(signInMock.mock.calls[0][0]).toMatchObject({
      username: 'demo@example.com',
      password: 'Demo-pass-123!',
      options: { authFlowType: 'USER_PASSWORD_AUTH' },
    })
  })

  it('offers sign-up when hosted', async () => {
    // (Amplify's default SRP sign-in is used there; not exercised here, it would call AWS.)
    const hosted: AppConfig = { ...local, cognitoEndpoint: undefined, environment: 'prod' }
    render(<Root config={hosted} />)
    expect(await screen.findByRole('tab', { name: 'Create Account' }, { timeout: 10_000 })).toBeInTheDocument()
  })
})
