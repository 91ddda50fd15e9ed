import { describe, expect, it } from 'vitest'
import { formatCategory, sentence } from './format'

describe('formatCategory', () => {
  it('shows category keys as words', () => {
    expect(formatCategory('personal_care')).toBe('personal care')
    expect(formatCategory('groceries')).toBe('groceries')
  })
})

describe('sentence', () => {
  it('ends a message with exactly one full stop', () => {
    expect(sentence('The image is incomplete: upload it again.')).toBe('The image is incomplete: upload it again.')
    expect(sentence('unknown reason')).toBe('unknown reason.')
    expect(sentence('Is this a receipt? ')).toBe('Is this a receipt?')
  })
})
