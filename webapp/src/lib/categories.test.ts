import { describe, expect, it } from 'vitest'
import { CATEGORY_GROUPS, CATEGORY_SUGGESTIONS, categoryLabel, isTaxonomySlug, TAXONOMY, withoutLegacy } from './categories'

describe('categories', () => {
  it('labels taxonomy slugs, legacy names, typed names and nothing', () => {
    expect(categoryLabel('groceries_fresh')).toBe('Groceries: fresh')
    expect(categoryLabel('groceries')).toBe('Groceries: pantry') // legacy
    expect(categoryLabel('Fuel')).toBe('Transport & fuel') // legacy, any case
    expect(categoryLabel('pet_food')).toBe('pet food') // typed by a person: kept, as words
    expect(categoryLabel(null)).toBe('Uncategorized')
    expect(categoryLabel('uncategorized')).toBe('Uncategorized')
  })

  it('maps legacy names and keeps the rest', () => {
    expect(withoutLegacy('utilities')).toBe('utilities_services')
    expect(withoutLegacy('dining')).toBe('dining')
    expect(withoutLegacy('bakery')).toBe('bakery')
    expect(isTaxonomySlug('groceries')).toBe(false)
    expect(isTaxonomySlug('groceries_drinks')).toBe(true)
  })

  it('groups every category once for a select, groceries together', () => {
    expect(CATEGORY_GROUPS.flatMap((g) => g.categories)).toHaveLength(TAXONOMY.length)
    expect(CATEGORY_GROUPS[0]).toMatchObject({ label: 'Groceries' })
    expect(CATEGORY_GROUPS[0].categories.map((c) => c.slug)).toEqual(['groceries_fresh', 'groceries_pantry', 'groceries_drinks'])
    expect(CATEGORY_SUGGESTIONS).toContain('uncategorized')
  })
})
