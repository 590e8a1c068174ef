/**
 * Kubernetes' recommended labels. Selectors use the stable subset only
 * (name, component, part-of): a selector is immutable, so a label that
 * changes between releases (version) must never be in one.
 */
export type Labels = Readonly<Record<string, string>>

/**
 * The app's one name: the Pulumi project (and so its config keys'
 * prefix), its component types, the part-of label and the router's objects.
 */
export const APP = 'guild-router'

/** What every object of the app carries, selected or not. */
export function appLabels (): Labels {
  return { 'app.kubernetes.io/part-of': APP, 'app.kubernetes.io/managed-by': 'pulumi' }
}

export function selectorLabels (name: string, component: string): Labels {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': APP
  }
}

export function objectLabels (selector: Labels, version: string): Labels {
  return { ...selector, 'app.kubernetes.io/version': version, 'app.kubernetes.io/managed-by': 'pulumi' }
}

/** The tag of an image reference, for the version label. */
export function imageVersion (image: string): string {
  if (image.includes('@')) return 'digest'
  // The tag's colon comes after the last slash; one before it is a registry's port.
  // Stryker disable next-line ArithmeticOperator: searching from one place before the slash instead finds the same colon, since a reference never has a colon right before a slash (`host:/name` has no port)
  const colon = image.indexOf(':', image.lastIndexOf('/') + 1)
  const tag = colon === -1 ? 'latest' : image.slice(colon + 1)
  // Label values: at most 63 characters of [A-Za-z0-9_.-].
  return tag.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63)
}
