/**
 * Charts for the benchmark reports, drawn with Vega-Lite and rendered to SVG
 * by Vega's headless view (no browser, no canvas).
 */
export async function renderSvg (spec: Record<string, unknown>): Promise<string> {
  // Both packages are ESM-only.
  const vegaLite = await import('vega-lite')
  const vega = await import('vega')
  const compiled = vegaLite.compile(spec as never).spec
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' })
  return view.toSVG()
}

export interface BarRow { readonly group: string, readonly series: string, readonly value: number, readonly min: number, readonly max: number }

/** Grouped bars with min–max whiskers: one panel per group, one bar per series. */
export function barsWithRange (title: string, yTitle: string, rows: readonly BarRow[]): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: rows },
    facet: { column: { field: 'group', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: 220,
      layer: [
        { mark: 'bar', encoding: { x: { field: 'series', type: 'nominal', title: null, sort: null }, y: { field: 'value', type: 'quantitative', title: yTitle }, color: { field: 'series', type: 'nominal', legend: null } } },
        { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'series', type: 'nominal', sort: null }, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } }
      ]
    }
  }
}

export interface LineRow { readonly x: number, readonly series: string, readonly y: number }

export function lines (title: string, xTitle: string, yTitle: string, rows: readonly LineRow[], yScale: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 520,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', point: false },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: yScale },
      color: { field: 'series', type: 'nominal', title: null }
    }
  }
}
