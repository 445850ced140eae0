/**
 * A horizontal bar chart as a standalone SVG (no chart library): one bar per ratio, a dashed line at its target,
 * bars green when the target is met, amber when missed, grey for reference bars without a target.
 */
export interface Bar {
  label: string
  value: number
  /** Higher is better; the bar passes when value ≥ target. */
  target?: number
}

const WIDTH = 760
const LABEL_WIDTH = 300
const ROW = 34
const TOP = 48
const PLOT = WIDTH - LABEL_WIDTH - 70

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function barChart(title: string, subtitle: string, bars: readonly Bar[]): string {
  const max = Math.max(1.2, ...bars.map((bar) => Math.max(bar.value, bar.target ?? 0))) * 1.05
  const x = (value: number) => LABEL_WIDTH + (Math.max(0, value) / max) * PLOT
  const height = TOP + bars.length * ROW + 40
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13" role="img">`,
    `<title>${escapeXml(`${title} — ${subtitle}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="22" font-size="15" font-weight="600" fill="#111">${escapeXml(title)}</text>`,
    `<text x="16" y="40" fill="#555">${escapeXml(subtitle)}</text>`,
  ]
  // Grid at every 0.25.
  for (let tick = 0; tick <= max; tick += 0.25) {
    const tx = x(tick)
    parts.push(
      `<line x1="${tx.toFixed(1)}" y1="${TOP}" x2="${tx.toFixed(1)}" y2="${TOP + bars.length * ROW}" stroke="#eee"/>`,
      `<text x="${tx.toFixed(1)}" y="${TOP + bars.length * ROW + 16}" text-anchor="middle" fill="#777" font-size="11">${tick.toFixed(2)}</text>`,
    )
  }
  bars.forEach((bar, index) => {
    const y = TOP + index * ROW
    const met = bar.target === undefined ? null : bar.value >= bar.target
    const fill = met === null ? '#9aa5b1' : met ? '#2e9e5b' : '#d98a1c'
    parts.push(
      `<text x="${LABEL_WIDTH - 10}" y="${y + 21}" text-anchor="end" fill="#222">${escapeXml(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y + 8}" width="${(x(bar.value) - LABEL_WIDTH).toFixed(1)}" height="18" fill="${fill}" rx="2"/>`,
      `<text x="${(x(bar.value) + 6).toFixed(1)}" y="${y + 21}" fill="#222">${bar.value.toFixed(2)}×</text>`,
    )
    if (bar.target !== undefined) {
      const tx = x(bar.target).toFixed(1)
      parts.push(
        `<line x1="${tx}" y1="${y + 3}" x2="${tx}" y2="${y + 31}" stroke="#c0392b" stroke-width="2" stroke-dasharray="4 3"/>`,
      )
    }
  })
  parts.push(
    `<text x="${LABEL_WIDTH}" y="${height - 6}" fill="#777" font-size="11">dashed red line = target · green = met · amber = missed · grey = reference</text>`,
    '</svg>',
  )
  return `${parts.join('\n')}\n`
}
