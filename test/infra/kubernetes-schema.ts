import * as client from '@kubernetes/client-node'

/**
 * Validates a manifest against the Kubernetes OpenAPI schema, strictly, with
 * two maintained packages generated from that schema:
 * - `kubernetes-models` (ajv validators): types, formats, enums, required fields;
 * - `@kubernetes/client-node` (generated from the release-1.36 OpenAPI spec):
 *   the field names of every type, so an unknown or misspelled field fails, as
 *   `kubectl apply --validate=strict` would.
 * Returns the problems found, empty when the manifest is valid.
 */
export async function validateManifest (manifest: Record<string, unknown>): Promise<string[]> {
  const apiVersion = String(manifest.apiVersion)
  const kind = String(manifest.kind)
  const problems: string[] = []

  // prometheus-operator's CRDs: their published models (ajv validators for
  // types, formats and patterns such as durations). The CRD schemas allow
  // unknown fields, so those are caught where the specs are built, by the
  // models' TypeScript types (infra/prometheus-operator.ts).
  if (apiVersion.startsWith('monitoring.coreos.com/')) {
    return await validateWithModel(`@kubernetes-models/prometheus-operator/${apiVersion}`, 'prometheus-operator', manifest)
  }
  problems.push(...await validateWithModel(`kubernetes-models/${apiVersion}`, 'kubernetes-models', manifest))

  const version = apiVersion.split('/').pop() ?? ''
  const typeName = `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`
  checkFields(manifest, typeName, kind, problems)
  return problems
}

/** The published model's ajv validator for the manifest's kind (ESM-only packages: loaded dynamically). */
async function validateWithModel (module: string, name: string, manifest: Record<string, unknown>): Promise<string[]> {
  const models = await import(module) as Record<string, new (v: unknown) => { validate (): void }>
  const kind = String(manifest.kind)
  const Model = models[kind]
  if (Model === undefined) return [`no ${name} schema for ${String(manifest.apiVersion)} ${kind}`]
  try {
    new Model(manifest).validate()
    return []
  } catch (err) {
    return [`${kind}: ${(err as Error).message}`]
  }
}

type AttributeMap = ReadonlyArray<{ baseName: string, type: string }>
const registry = client as unknown as Record<string, { attributeTypeMap?: AttributeMap } | undefined>

function checkFields (value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined) return
  const array = /^Array<(.+)>$/.exec(type)
  if (array !== null) {
    if (!Array.isArray(value)) { problems.push(`${path}: expected an array`); return }
    value.forEach((item, i) => checkFields(item, array[1] as string, `${path}[${i}]`, problems))
    return
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)
  if (map !== null) {
    if (typeof value !== 'object') { problems.push(`${path}: expected an object`); return }
    for (const [k, v] of Object.entries(value)) checkFields(v, map[1] as string, `${path}.${k}`, problems)
    return
  }
  switch (type) {
    case 'string': case 'Date':
      if (typeof value !== 'string') problems.push(`${path}: expected a string`)
      return
    case 'number':
      if (typeof value !== 'number') problems.push(`${path}: expected a number`)
      return
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean`)
      return
    case 'IntOrString':
      if (typeof value !== 'string' && typeof value !== 'number') problems.push(`${path}: expected an integer or a string`)
      return
    case 'any': case 'object':
      return
  }
  const attributes = registry[type]?.attributeTypeMap
  if (attributes === undefined) { problems.push(`${path}: no schema for type ${type}`); return }
  if (typeof value !== 'object' || Array.isArray(value)) { problems.push(`${path}: expected an object (${type})`); return }
  const fields = new Map(attributes.map(a => [a.baseName, a.type]))
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childType = fields.get(key)
    if (childType === undefined) problems.push(`${path}.${key}: unknown field in ${type}`)
    else checkFields(child, childType, `${path}.${key}`, problems)
  }
}
