import type { ComponentProps } from 'react'
import { Authenticator } from '@aws-amplify/ui-react'
import '@aws-amplify/ui-react/styles.css'
import { passwordAuthSignIn } from './signInService'

export interface SignInProps {
  local: boolean
  authFlowType: 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH'
}

type Services = NonNullable<ComponentProps<typeof Authenticator>['services']>

export default function SignIn({ local, authFlowType }: SignInProps) {
  const services: Services | undefined =
    authFlowType === 'USER_PASSWORD_AUTH' ? { handleSignIn: passwordAuthSignIn as Services['handleSignIn'] } : undefined
  return (
    <main className="signin" data-testid="sign-in">
      <h1 className="signin-title">receiptlake</h1>
      <p className="signin-lead">Photograph receipts, review what was read, and see where your money goes.</p>
      {local && <p className="env-note">Local mode: sign in with the demo user (sign-up is disabled).</p>}
      <Authenticator hideSignUp={local} loginMechanisms={['email']} services={services}>
        {() => <p role="status">Signed in. Loading…</p>}
      </Authenticator>
    </main>
  )
}
