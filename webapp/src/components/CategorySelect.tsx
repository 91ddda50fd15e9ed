// A line item's category, chosen from the taxonomy (groceries grouped). A category stored
// under another name (a legacy one, or one typed before) stays selectable as it is, so
// opening a receipt never changes it by itself.
import { Fragment } from 'react'
import { CATEGORY_GROUPS, categoryLabel, isTaxonomySlug, LEGACY, UNCATEGORIZED } from '../lib/categories'

interface Props {
  value: string
  label: string
  disabled?: boolean
  autoFocus?: boolean
  title?: string
  invalid?: boolean
  onChange: (value: string) => void
}

function storedOption(value: string): string {
  return value.trim().toLowerCase() in LEGACY ? `${categoryLabel(value)} (old name “${value}”)` : `${value} (not in the list)`
}

export function CategorySelect({ value, label, disabled, autoFocus, title, invalid, onChange }: Props) {
  const shown = value.trim().toLowerCase() === UNCATEGORIZED ? '' : value
  const other = shown && !isTaxonomySlug(shown)
  return (
    <select
      aria-label={label}
      value={shown}
      disabled={disabled}
      autoFocus={autoFocus}
      title={title}
      aria-invalid={invalid ? true : undefined}
      className="category-select"
      onChange={(e) => onChange(e.target.value)}
    >
      <option value="">Uncategorized</option>
      {other && <option value={shown}>{storedOption(shown)}</option>}
      {CATEGORY_GROUPS.map((g) => {
        const options = g.categories.map((c) => (
          <option key={c.slug} value={c.slug} title={c.description}>
            {c.label}
          </option>
        ))
        return g.label ? (
          <optgroup key={g.label} label={g.label}>
            {options}
          </optgroup>
        ) : (
          <Fragment key="ungrouped">{options}</Fragment>
        )
      })}
    </select>
  )
}
