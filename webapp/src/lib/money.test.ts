import { describe, expect, it } from 'vitest'
import { addDecimals, compareDecimals, formatMoney, isDecimalString, parseDecimal, roundDecimal } from './money'

describe('decimal arithmetic', () => {
  it('adds without float error', () => {
    expect(0.1 + 0.2).not.toBe(0.3) // the reason this module exists
    expect(addDecimals(['0.1', '0.2'])).toBe('0.3')
    expect(addDecimals(['19.99', '0.01', '-5'])).toBe('15.00')
    expect(addDecimals(['1.005', '2.1'])).toBe('3.105')
    expect(addDecimals([null, undefined, '', '3'])).toBe('3')
    expect(addDecimals([])).toBe('0')
  })

  it('keeps big amounts exact', () => {
    expect(addDecimals(['9007199254740993.01', '0.01'])).toBe('9007199254740993.02')
  })

  it('parses and rejects', () => {
    expect(parseDecimal('-12.50')).toEqual({ units: -1250n, scale: 2 })
    expect(isDecimalString('12.5')).toBe(true)
    expect(isDecimalString('12,5')).toBe(false)
    expect(isDecimalString('1e3')).toBe(false)
    expect(() => parseDecimal('abc')).toThrow(/not a decimal/)
  })

  it('compares and rounds half away from zero', () => {
    expect(compareDecimals('10.0', '10')).toBe(0)
    expect(compareDecimals('9.99', '10')).toBe(-1)
    expect(roundDecimal('1.005', 2)).toBe('1.01') // a float would give 1.00
    expect(roundDecimal('-1.005', 2)).toBe('-1.01')
    expect(roundDecimal('2.5', 0)).toBe('3')
    expect(roundDecimal('7', 2)).toBe('7.00')
  })
})

describe('formatMoney', () => {
  it('formats decimal strings with the currency', () => {
    expect(formatMoney('1234.5', 'EUR', 'en-US')).toBe('€1,234.50')
    expect(formatMoney('12.10', 'USD', 'en-US')).toBe('$12.10')
    expect(formatMoney('-3', 'GBP', 'en-GB')).toBe('-£3.00')
  })

  it('shows the exact value, never a rounded float', () => {
    expect(formatMoney('1.005', 'EUR', 'en-US')).toBe('€1.005')
    expect(formatMoney('0.30000000000000004', 'EUR', 'en-US')).toBe('€0.30000000000000004')
    expect(formatMoney('12345678901234567.89', 'USD', 'en-US')).toBe('$12,345,678,901,234,567.89')
  })

  it('follows the currency minor unit and the locale pattern', () => {
    expect(formatMoney('1500', 'JPY', 'en-US')).toBe('¥1,500')
    expect(formatMoney('1234.5', 'EUR', 'de-DE').replace(/\s/g, ' ')).toBe('1.234,50 €')
  })

  it('handles missing and odd values', () => {
    expect(formatMoney(null, 'EUR')).toBe('—')
    expect(formatMoney('', 'EUR')).toBe('—')
    expect(formatMoney('n/a', 'EUR')).toBe('n/a')
    expect(formatMoney('5', null, 'en-US')).toBe('5.00')
    expect(formatMoney('5', 'XYZ1', 'en-US')).toBe('5.00')
  })
})
