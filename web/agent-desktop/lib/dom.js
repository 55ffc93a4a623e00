// Small helpers shared by the panels: escaping, sentence highlighting, status lines.
import { t } from "./i18n.js";

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

function locate(text, sentence) {
  const at = text.indexOf(sentence);
  if (at >= 0) return [at, at + sentence.length];
  // Whitespace may differ (line breaks inside a sentence): match with flexible spaces.
  const words = sentence.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!words.length) return null;
  const m = new RegExp(words.join("\\s+"), "i").exec(text);
  return m ? [m.index, m.index + m[0].length] : null;
}

/**
 * HTML for text with each flagged sentence wrapped in <mark class="flag">.
 * flags: [{index, code, sentence}]; returns {html, placed: Set(flag index)}.
 */
export function highlight(text, flags, idPrefix) {
  const ranges = [];
  const placed = new Set();
  for (const f of flags) {
    if (!f.sentence) continue;
    const span = locate(text, f.sentence);
    if (!span) continue;
    placed.add(f.index);
    const same = ranges.find((r) => r.start === span[0] && r.end === span[1]);
    if (same) same.flags.push(f);
    else ranges.push({ start: span[0], end: span[1], flags: [f] });
  }
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  let html = "";
  let pos = 0;
  for (const r of ranges) {
    if (r.start < pos) continue; // overlapping sentence: the first one keeps the mark
    html += esc(text.slice(pos, r.start));
    const codes = r.flags.map((f) => f.code).join(" ");
    const labels = r.flags.map((f) => f.label).join(", ");
    const ids = r.flags.map((f) => `${idPrefix}-${f.index}`);
    html += `<mark class="flag" id="${ids[0]}" data-flags="${esc(codes)}" data-flag-index="${r.flags.map((f) => f.index).join(" ")}" tabindex="0" title="${esc(labels)}"><span class="sr-only">${esc(t("reply.flagged"))}: ${esc(labels)}. </span><span class="flag-text">${esc(text.slice(r.start, r.end))}</span></mark>`;
    pos = r.end;
  }
  html += esc(text.slice(pos));
  return { html, placed };
}

/** The error box: status, code, message, the fields that failed and the request id. */
export function errorHtml(err) {
  const fields = (err.details || [])
    .map((d) => `<li><code class="field">${esc(d.field)}</code>: ${esc(d.problem)}</li>`)
    .join("");
  const status = err.status ? `HTTP ${err.status}` : t("error.network");
  const kind = err.status === 503 ? t("error.unavailable") : err.status >= 500 || !err.status ? t("error.server") : t("error.request");
  const retry = err.retryAfter
    ? `<p class="retry-after" data-retry-after="${esc(err.retryAfter)}">${esc(t("error.retry_after", { seconds: err.retryAfter }))}</p>`
    : "";
  return `<div class="error" role="alert" data-status="${esc(err.status)}">
    <p><strong>${esc(kind)}</strong> — ${esc(err.fn || "")} ${esc(status)} <code>${esc(err.code)}</code></p>
    ${retry}
    <p class="error-message">${esc(err.message)}</p>
    ${fields ? `<ul class="error-fields" aria-label="${esc(t("error.fields"))}">${fields}</ul>` : ""}
    <p class="request-id">${esc(t("error.request_id"))}: <code>${esc(err.requestId || "—")}</code></p>
    <p class="hint">${esc(err.status >= 500 || !err.status ? t("error.retry_hint") : t("error.fix_hint"))}</p>
  </div>`;
}

/** Engine and degradation badge shown with every suggestion. */
export function engineHtml(data) {
  if (!data) return "";
  const degraded = data.degraded
    ? `<div class="degraded" role="status" data-degraded="true"><strong>${esc(t("degraded.title"))}</strong> ${esc(t("degraded.body"))}${data.degraded_reason ? ` <span class="reason">(${esc(data.degraded_reason)})</span>` : ""}</div>`
    : "";
  const engine = data.engine ? `<span class="badge engine" data-engine="${esc(data.engine)}">${esc(t("engine." + data.engine))}</span>` : "";
  return `${degraded}<p class="meta">${engine} <span class="muted">${esc(t("meta.prompt"))} ${esc(data.prompt_version || "")}</span></p>`;
}
