/**
 * The results as an SVG bar chart, drawn by hand (no charting dependency): one group per
 * scenario, one bar per client, each bar's length relative to the best in its group.
 */
import { LABELS } from './clients.mjs';

const COLORS = {
  redisdb: '#d6336c',
  'node-redis5': '#1c7ed6',
  'node-redis6': '#74c0fc',
  ioredis: '#f59f00',
  'redis-benchmark': '#868e96',
  'redis-parser': '#1c7ed6',
  'node-redis5-decoder': '#74c0fc',
  crypto: '#868e96',
};

/** Short names for the ratio labels: whose value is divided by the bar's. */
const MINE = { redisdb: 'redisdb', ring1: 'Ring', ring3: 'Ring', copy2: 'Copy' };

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function short(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(v >= 100 ? 0 : 1);
}

export function drawChart(summary, meta) {
  const groups = summary.scenarios.filter((s) => s.id !== 'startup');
  const width = 860;
  const labelW = 190;
  const barMax = width - labelW - 250;
  const barH = 16;
  const gap = 4;
  let y = 72;
  const parts = [];
  for (const s of groups) {
    parts.push(`<text x="16" y="${y}" class="t">${esc(s.title)}</text>`);
    y += 10;
    const entries = Object.entries(s.clients);
    const max = Math.max(...entries.map(([, c]) => c.value));
    for (const [client, c] of entries) {
      const w = Math.max(1, (c.value / max) * barMax);
      const name = LABELS[client] ?? client;
      const color = COLORS[client] ?? (client === s.mine ? COLORS.redisdb : '#adb5bd');
      const ratio = client === s.mine ? '' : `  (${MINE[s.mine] ?? s.mine} ${s.ratios[client].toFixed(2)}×)`;
      parts.push(
        `<text x="${labelW - 8}" y="${y + barH - 4}" class="l" text-anchor="end">${esc(name)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="2" fill="${client === s.mine ? COLORS.redisdb : color}"/>`,
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH - 4}" class="v">${esc(`${short(c.value)} ${c.unit}${ratio}`)}</text>`,
      );
      y += barH + gap;
    }
    y += 22;
  }
  const height = y + 10;
  const v = meta.versions;
  const sub = `${meta.date.slice(0, 10)} · ${meta.machine} · Node ${meta.node} · Redis ${meta.redis} · node-redis ${v['node-redis5']} / ${v['node-redis6']} · ioredis ${v.ioredis} · medians of ${meta.runs} runs`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>.t{font-size:14px;font-weight:600;fill:#212529}.l{font-size:12px;fill:#343a40}.v{font-size:11px;fill:#495057}.s{font-size:11px;fill:#868e96}</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="24" style="font-size:17px;font-weight:700;fill:#212529">redisdb vs node-redis and ioredis (higher is better)</text>
<text x="16" y="40" class="s">${esc(sub)}</text>
${parts.join('\n')}
</svg>
`;
}
