import { createContext, useContext, useEffect, type RefObject } from 'react'
import { parseHash } from '../router'

/**
 * Remembers the route whose page heading last took focus. A page heading that mounts under
 * a different route takes focus, so screen readers announce the new page; the first page
 * after load does not. (Pages load lazily, so the shell cannot do this itself.)
 */
export interface HeadingFocus {
  /** true once per route: the caller should take focus */
  claim: (path: string) => boolean
}

export function createHeadingFocus(initialPath: string): HeadingFocus {
  let last = initialPath
  return {
    claim(path) {
      if (path === last) return false
      last = path
      return true
    },
  }
}

export const FocusOnNavigate = createContext<HeadingFocus | null>(null)

export function useFocusOnNavigate(ref: RefObject<HTMLElement | null>): void {
  const focus = useContext(FocusOnNavigate)
  useEffect(() => {
    if (ref.current && focus?.claim(parseHash(window.location.hash).path)) ref.current.focus()
  }, [focus, ref])
}
