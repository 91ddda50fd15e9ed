import type { AnchorHTMLAttributes, ReactNode } from 'react'
import { hrefFor } from '../router'

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string; children: ReactNode }

/** A link to a hash route: a real <a href="#/..."> (opens in a new tab, keyboard friendly). */
export function Link({ to, children, ...rest }: LinkProps) {
  return (
    <a href={hrefFor(to)} {...rest}>
      {children}
    </a>
  )
}
