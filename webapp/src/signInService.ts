import { signIn, type SignInInput } from 'aws-amplify/auth'

/** Password sign-ins go through USER_PASSWORD_AUTH (moto's SRP support is unverified). */
export function passwordAuthSignIn(input: SignInInput) {
  if (!input.password) return signIn(input)
  return signIn({ ...input, options: { ...input.options, authFlowType: 'USER_PASSWORD_AUTH' } })
}
