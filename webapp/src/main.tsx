import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { Amplify } from 'aws-amplify'
import './index.css'
import { amplifyConfig, loadConfig } from './config'
import { Root } from './Root'

const container = document.getElementById('root')!
const root = createRoot(container)

async function start() {
  try {
    // Hosted and local alike: the user pool comes from /config.json, never from the bundle.
    const config = await loadConfig()
    Amplify.configure(amplifyConfig(config))
    if (config.cognitoEndpoint) {
      // local mode: refresh tokens in a way the Cognito emulator understands
      const { installLocalTokenRefresher } = await import('./localAuth')
      installLocalTokenRefresher(config)
    }
    root.render(
      <StrictMode>
        <Root config={config} />
      </StrictMode>,
    )
  } catch (err) {
    root.render(
      <main className="boot-error" role="alert">
        <h1>receiptlake could not start</h1>
        <p>{err instanceof Error ? err.message : String(err)}</p>
        <button type="button" className="btn" onClick={() => window.location.reload()}>
          Reload
        </button>
      </main>,
    )
  }
}

void start()
