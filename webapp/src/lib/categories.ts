// The spending taxonomy, mirroring lambda_src/common/categories.py (docs/categories.md).
// tests/unit/common/test_webapp_taxonomy.py parses this file and fails when the two differ,
// so keep one entry a line, in the Python order.
import { formatCategory } from './format'

export interface Category {
  slug: string
  label: string
  description: string
}

export const TAXONOMY: readonly Category[] = [
  { slug: 'groceries_fresh', label: 'Groceries: fresh', description: 'fruit, vegetables, meat, fish, dairy, eggs, bread' },
  { slug: 'groceries_pantry', label: 'Groceries: pantry', description: 'packaged and dry food, snacks, sauces, frozen food' },
  { slug: 'groceries_drinks', label: 'Groceries: drinks', description: 'water, juice, soft drinks, coffee, tea to take home' },
  { slug: 'alcohol_tobacco', label: 'Alcohol & tobacco', description: 'beer, wine, spirits, cigarettes' },
  { slug: 'dining', label: 'Dining out', description: 'restaurants, cafes, takeaway, food and drinks served, service charges' },
  { slug: 'transport', label: 'Transport & fuel', description: 'fuel, parking, tolls, fares, taxis, car care' },
  { slug: 'household', label: 'Household', description: 'cleaning, home goods, hardware, tools, furniture, bags' },
  { slug: 'health', label: 'Health', description: 'pharmacy, medicine, doctors' },
  { slug: 'personal_care', label: 'Personal care', description: 'toiletries, cosmetics, hair and beauty' },
  { slug: 'shopping', label: 'Shopping', description: 'clothing, electronics, office supplies, gifts, general merchandise' },
  { slug: 'entertainment', label: 'Entertainment', description: 'cinema, events, games, streaming, hobbies' },
  { slug: 'travel', label: 'Travel', description: 'hotels, flights, trips' },
  { slug: 'utilities_services', label: 'Utilities & services', description: 'power, phone, internet, subscriptions, fees' },
  { slug: 'other', label: 'Other', description: 'anything that fits none of the above' },
]

/** Names stored before this taxonomy; readers map them so history and new receipts add up. */
export const LEGACY: Readonly<Record<string, string>> = {
  groceries: 'groceries_pantry',
  alcohol: 'alcohol_tobacco',
  electronics: 'shopping',
  office: 'shopping',
  clothing: 'shopping',
  fuel: 'transport',
  fees: 'utilities_services',
  services: 'utilities_services',
  utilities: 'utilities_services',
  leisure: 'entertainment',
}

/** What an item or receipt without a category is stored as (lambda_src/common/model.py). */
export const UNCATEGORIZED = 'uncategorized'

const BY_SLUG = new Map(TAXONOMY.map((c) => [c.slug, c]))

/** Suggestions for free-text category inputs (filters, the receipt's own category): the API
 * accepts any category string, so these only help people type today's names. */
export const CATEGORY_SUGGESTIONS: readonly string[] = [...TAXONOMY.map((c) => c.slug), UNCATEGORIZED]

export function isTaxonomySlug(category: string | null | undefined): boolean {
  return !!category && BY_SLUG.has(category)
}

/** A stored category with legacy names mapped onto today's; other names are kept as typed. */
export function withoutLegacy(category: string): string {
  const name = category.trim().toLowerCase()
  return LEGACY[name] ?? (BY_SLUG.has(name) ? name : category)
}

/** The words to show for a stored category: the taxonomy label (legacy names mapped onto
 * today's), "Uncategorized", or, for a name people typed, that name as words. */
export function categoryLabel(category: string | null | undefined): string {
  const name = (category ?? '').trim().toLowerCase()
  if (!name || name === UNCATEGORIZED) return 'Uncategorized'
  const slug = BY_SLUG.has(name) ? name : LEGACY[name]
  return slug ? BY_SLUG.get(slug)!.label : formatCategory(category!.trim())
}

export interface CategoryGroup {
  /** shown as an <optgroup>; null for categories that stand alone */
  label: string | null
  categories: Category[]
}

/** The taxonomy for a <select>: the groceries together, the rest one by one, in order. */
export const CATEGORY_GROUPS: readonly CategoryGroup[] = [
  { label: 'Groceries', categories: TAXONOMY.filter((c) => c.slug.startsWith('groceries_')) },
  { label: null, categories: TAXONOMY.filter((c) => !c.slug.startsWith('groceries_')) },
]
