/** Suggestions for category inputs; the API accepts any category string. */
export const COMMON_CATEGORIES = [
  'groceries',
  'dining',
  'transport',
  'fuel',
  'household',
  'health',
  'entertainment',
  'utilities',
  'shopping',
  'travel',
  'services',
  'other',
  'uncategorized',
]
