import { screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { App } from './App'
import { fakeFetch, json, makeApi } from './test/helpers'
import { render } from '@testing-library/react'

function setup(hash: string) {
  window.location.hash = hash
  const f = fakeFetch({ 'GET /receipts': () => json({ items: [], next_cursor: null }) })
  const onSignOut = vi.fn()
  render(<App api={makeApi(f.fetch)} user={{ email: 'demo@example.com', sub: 'u1' }} environment="local" onSignOut={onSignOut} />)
  return { onSignOut }
}

describe('App shell', () => {
  it('routes by hash and marks the current page', async () => {
    setup('#/receipts')
    expect(await screen.findByRole('heading', { name: 'Receipts', level: 1 })).not.toHaveFocus() // first load
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(nav.querySelector('[aria-current="page"]')).toHaveTextContent('Receipts')
    await userEvent.click(screen.getByRole('link', { name: 'Settings' }))
    expect(await screen.findByRole('heading', { name: 'Settings', level: 1 })).toBeInTheDocument()
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Settings', level: 1 })).toHaveFocus())
    // back to a page whose code is already loaded
    await userEvent.click(screen.getByRole('link', { name: 'Receipts' }))
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Receipts', level: 1 })).toHaveFocus())
  })

  it('opens on Upload, shows the user and the environment, and signs out', async () => {
    const { onSignOut } = setup('')
    expect(await screen.findByRole('heading', { name: 'Upload receipts' })).toBeInTheDocument()
    expect(screen.getByText('demo@example.com')).toBeInTheDocument()
    expect(screen.getByText('local')).toBeInTheDocument()
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }))
    expect(onSignOut).toHaveBeenCalled()
  })

  it('has a skip link and a not-found page', async () => {
    setup('#/nope')
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Skip to content' })).toBeInTheDocument()
  })
})
