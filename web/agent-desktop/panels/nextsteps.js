// <cx-next-steps-panel>: end of contact. Suggested actions (owners, due dates), resolver
// queue (catalogue + router candidates), knowledge articles; the agent edits and confirms
// (confirm_next_steps), copies the closing message (closing_message), then closes the
// contact — which stays disabled until the next steps are confirmed.
import { callFunction, eventId } from "../lib/api.js";
import { config, resourceUrl } from "../lib/config.js";
import { engineHtml, errorHtml, esc, uid } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { CHANNELS, Panel, transcript } from "../lib/panel.js";

const OWNERS = ["agent", "customer", "backoffice"];
let cataloguePromise = null;

/** The queue catalogue (resolver groups) once per page; null when it cannot be read. */
export function loadCatalogue() {
  if (!cataloguePromise) {
    cataloguePromise = fetch(resourceUrl(config().catalogueUrl))
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
  }
  return cataloguePromise;
}

/** Router candidates in whatever shape the response carries them (absent → []). */
export function routeCandidates(data) {
  const raw = data.route_candidates || data.routing_candidates || data.candidates || [];
  return raw
    .map((c) => (typeof c === "string" ? { label: c } : {
      label: c.resolver_group || c.label || c.group || c.queue,
      code: c.queue_code || c.code,
      probability: c.probability ?? c.score ?? c.confidence,
    }))
    .filter((c) => c.label);
}

export class NextStepsPanel extends Panel {
  constructor() {
    super();
    this.ids = { heading: uid("ns-h"), queue: uid("ns-queue"), closing: uid("ns-closing"), row: uid("ns-row") };
    this.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-action]");
      if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") return;
      const action = button.dataset.action;
      if (action === "suggest") this.suggest(performance.now());
      if (action === "add") this.addRow();
      if (action === "remove") this.removeRow(Number(button.dataset.index));
      if (action === "confirm") this.confirm(performance.now());
      if (action === "copy") this.copy();
      if (action === "close") this.close();
    });
    const edit = (ev) => {
      const el = ev.target;
      const form = this.state.form;
      if (!form || !el.dataset.field) return;
      const i = Number(el.dataset.index);
      if (["owner", "description", "due_by"].includes(el.dataset.field)) form.actions[i][el.dataset.field] = el.value;
      if (el.dataset.field === "queue") form.resolver_group = el.value;
      if (el.dataset.field === "kb") form.kb_used[el.value] = el.checked;
      if (el.dataset.field === "closing") this.state.closingText = el.value;
    };
    this.addEventListener("input", edit);
    this.addEventListener("change", edit);
  }

  async suggest(started = performance.now()) {
    const c = this.contact;
    if (!c) return null;
    const body = { customer_id: c.customer_id, ticket_id: c.ticket_id, channel: CHANNELS.next_steps[c.channel], transcript: transcript(c) };
    if (c.end_time) body.conversation_end_time = c.end_time;
    const [catalogue] = await Promise.all([loadCatalogue()]);
    this.state = { catalogue };
    const data = await this.run("next_steps", body, { started });
    if (data) {
      this.state = {
        ...this.state,
        form: {
          actions: data.actions.map((a) => ({ owner: a.owner, description: a.description, due_by: a.due_by || "", evidence: a.evidence, due_text: a.due_text })),
          resolver_group: data.resolver_group,
          kb_used: {},
        },
      };
      this.render();
    }
    return data;
  }

  addRow() {
    this.state.form.actions.push({ owner: "agent", description: "", due_by: "" });
    this.render();
    const i = this.state.form.actions.length - 1;
    const field = this.querySelector(`[data-field="description"][data-index="${i}"]`);
    if (field) field.focus();
  }

  removeRow(i) {
    this.state.form.actions.splice(i, 1);
    this.render();
    const next = this.querySelector('[data-action="add"]');
    if (next) next.focus();
  }

  finalActions() {
    return this.state.form.actions.map((a) => ({ owner: a.owner, description: a.description.trim(), due_by: a.due_by || null }));
  }

  async confirm(started = performance.now()) {
    const c = this.contact;
    const { data, form } = this.state;
    const body = {
      suggestion_id: data.suggestion_id, customer_id: c.customer_id, ticket_id: c.ticket_id,
      actions: this.finalActions(), resolver_group: form.resolver_group,
      kb_used: Object.entries(form.kb_used).filter(([, used]) => used).map(([id]) => id),
    };
    const confirmed = await this.run("confirm_next_steps", body, { started, key: "confirmed" });
    if (!confirmed) return null;
    this.dispatchEvent(new CustomEvent("cx-next-steps-confirmed", { bubbles: true, detail: confirmed }));
    await this.closing();
    return confirmed;
  }

  async closing() {
    const c = this.contact;
    const actions = this.finalActions();
    if (!actions.length) return;
    const body = { customer_id: c.customer_id, actions, channel: CHANNELS.closing_message[c.channel] };
    if (c.ticket_id) body.ticket_id = c.ticket_id;
    if (this.state.data && this.state.data.language) body.language = this.state.data.language;
    try {
      const { data } = await callFunction("closing_message", body);
      this.state = { ...this.state, closingData: data, closingText: data.message, closingError: null };
    } catch (err) {
      this.state = { ...this.state, closingError: err };
    }
    this.render();
  }

  async copy() {
    const text = this.state.closingText ?? "";
    let copied = true;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = this.querySelector(`#${this.ids.closing}`);
      area.select();
      copied = document.execCommand("copy");
    }
    this.state = { ...this.state, copied };
    this.render();
    const data = this.state.closingData;
    if (data && copied) {
      callFunction("feedback", { event_id: eventId("closing"), suggestion_id: data.suggestion_id, capability: "closing_message", final_text: text })
        .catch(() => {});
    }
  }

  close() {
    if (!this.state.confirmed) return;
    const c = this.contact;
    this.state = { ...this.state, closed: true };
    this.render();
    this.dispatchEvent(new CustomEvent("cx-contact-closed", { bubbles: true, detail: { customer_id: c.customer_id, ticket_id: c.ticket_id, confirmation: this.state.confirmed } }));
  }

  queueOptions() {
    const { data, form, catalogue } = this.state;
    const candidates = routeCandidates(data);
    const seen = new Set();
    const option = (labelText, extra = "") => {
      seen.add(labelText);
      return `<option value="${esc(labelText)}" ${labelText === form.resolver_group ? "selected" : ""}>${esc(labelText)}${extra}</option>`;
    };
    let html = "";
    if (candidates.length) {
      html += `<optgroup label="${esc(t("ns.router_candidates"))}" data-group="candidates">${candidates.map((c) => option(c.label, c.probability != null ? ` (${Math.round(c.probability * 100)} %)` : "")).join("")}</optgroup>`;
    } else if (!seen.has(data.resolver_group)) {
      html += `<optgroup label="${esc(t("ns.suggested"))}">${option(data.resolver_group)}</optgroup>`;
    }
    const groups = catalogue ? catalogue.groups : []; // triage is where routing abstains, not a choice
    const rest = groups.filter((g) => !seen.has(g.label));
    if (rest.length) html += `<optgroup label="${esc(t("ns.all_queues"))}" data-group="catalogue">${rest.map((g) => option(g.label, g.code ? ` — ${g.code}` : "")).join("")}</optgroup>`;
    if (form.resolver_group && !seen.has(form.resolver_group)) html += option(form.resolver_group);
    return html;
  }

  formHtml() {
    const { data, form, confirmed, catalogue } = this.state;
    const locked = confirmed ? "disabled" : "";
    const rows = form.actions.map((a, i) => {
      const id = `${this.ids.row}-${i}`;
      return `<fieldset class="action-row" data-row="${i}"><legend>${esc(t("ns.action_n", { n: i + 1 }))}</legend>
        <label for="${id}-owner">${esc(t("ns.owner"))}</label>
        <select id="${id}-owner" data-field="owner" data-index="${i}">${OWNERS.map((o) => `<option value="${o}" ${o === a.owner ? "selected" : ""}>${esc(t("owner." + o))}</option>`).join("")}</select>
        <label for="${id}-desc">${esc(t("ns.description"))}</label>
        <textarea id="${id}-desc" rows="2" data-field="description" data-index="${i}">${esc(a.description)}</textarea>
        <label for="${id}-due">${esc(t("ns.due_by"))}</label>
        <input id="${id}-due" type="date" data-field="due_by" data-index="${i}" value="${esc(a.due_by || "")}">
        ${a.evidence ? `<p class="evidence muted">${esc(t("ns.evidence"))}: “${esc(a.evidence)}”${a.due_text ? ` · ${esc(t("ns.due_text"))}: “${esc(a.due_text)}”` : ""}</p>` : ""}
        <button type="button" data-action="remove" data-index="${i}" aria-label="${esc(t("ns.remove_n", { n: i + 1 }))}">${esc(t("ns.remove"))}</button>
      </fieldset>`;
    }).join("");
    const kb = (data.kb_suggestions || []).map((k) => `<li><label><input type="checkbox" data-field="kb" value="${esc(k.kb_id)}" ${form.kb_used[k.kb_id] ? "checked" : ""}> <strong>${esc(k.title)}</strong> <code>${esc(k.kb_id)}</code></label> <span class="muted">${esc(k.why)}</span></li>`).join("");
    return `<form class="ns-form" onsubmit="return false"><fieldset class="ns-fields" ${locked}>
        <legend>${esc(t("ns.actions"))}</legend>
        ${rows || `<p class="muted">${esc(t("ns.no_actions"))}</p>`}
        <button type="button" data-action="add">${esc(t("ns.add"))}</button>
        <div class="queue"><label for="${this.ids.queue}">${esc(t("ns.queue"))}</label>
          <select id="${this.ids.queue}" data-field="queue">${this.queueOptions()}</select>
          ${data.route_confidence != null ? `<p class="muted route-confidence">${esc(t("ns.route_confidence", { pct: Math.round(data.route_confidence * 100), version: data.router_version || "" }))}</p>` : ""}
          ${data.routing_flagged ? `<p class="warn" role="note">${esc(t("ns.routing_flagged"))}</p>` : ""}
          ${catalogue ? "" : `<p class="muted">${esc(t("ns.catalogue_missing"))}</p>`}</div>
        <fieldset class="kb"><legend>${esc(t("ns.kb"))}</legend>${kb ? `<ul>${kb}</ul>` : `<p class="muted">${esc(t("common.none"))}</p>`}</fieldset>
      </fieldset></form>`;
  }

  render() {
    const { busy, error, data, form, confirmed, closingText, closingError, copied, closed } = this.state;
    const c = this.contact;
    let result = "";
    if (data && form) {
      const diff = confirmed
        ? `<div class="confirmed ok" role="status"><strong>${esc(t("ns.confirmed"))}</strong> ${esc(confirmed.resolver_group)} (<code>${esc(confirmed.queue_code)}</code>)
            <ul class="diff">${Object.entries(confirmed.diff).map(([k, v]) => `<li>${esc(t("diff." + k))}: <strong data-diff="${esc(k)}">${esc(v === true ? t("common.yes") : v === false ? t("common.no") : v)}</strong></li>`).join("")}</ul></div>`
        : "";
      const closingHtml = closingText != null
        ? `<label for="${this.ids.closing}">${esc(t("ns.closing"))}</label>
           <textarea id="${this.ids.closing}" data-field="closing" rows="9">${esc(closingText)}</textarea>
           <button type="button" data-action="copy">${esc(t("ns.copy"))}</button>
           ${copied != null ? `<span class="${copied ? "ok" : "warn"}" role="status" data-copied="${copied}">${esc(copied ? t("ns.copied") : t("ns.copy_failed"))}</span>` : ""}`
        : "";
      result = `${engineHtml(data)}
        <p class="summary">${esc(data.issue_summary)}</p>
        ${data.first_contact_resolvable && data.first_contact_resolvable.value ? `<p class="warn" role="note">${esc(t("ns.fcr"))}: ${esc(data.first_contact_resolvable.reason)}</p>` : ""}
        ${this.formHtml()}
        ${error ? errorHtml(error) : ""}
        <div class="row">
          <button type="button" class="primary" data-action="confirm" ${confirmed ? "disabled" : ""} aria-disabled="${busy ? "true" : "false"}">${esc(busy === "confirm_next_steps" ? t("common.loading") : t("ns.confirm"))}</button>
        </div>
        ${diff}${closingHtml}${closingError ? errorHtml(closingError) : ""}`;
    } else if (error) {
      result = errorHtml(error);
    }
    const closeHint = confirmed ? "" : `<p class="muted" id="${this.ids.heading}-close-hint">${esc(t("ns.close_hint"))}</p>`;
    const footer = data && form
      ? `<div class="close-row">${closeHint}
          <button type="button" class="danger" data-action="close" ${confirmed && !closed ? "" : "disabled"} ${confirmed ? "" : `aria-describedby="${this.ids.heading}-close-hint"`}>${esc(t("ns.close"))}</button>
          ${closed ? `<span class="ok" role="status" data-closed="true">${esc(t("ns.closed"))}</span>` : ""}</div>`
      : "";
    this.setAttribute("role", "region");
    this.setAttribute("aria-labelledby", this.ids.heading);
    this.dataset.state = busy ? "busy" : closed ? "closed" : confirmed ? "confirmed" : error && !data ? "error" : data ? "done" : "idle";
    const head = `<h2 id="${this.ids.heading}">${esc(t("ns.title"))}</h2>
      ${c ? "" : `<p class="muted">${esc(t("common.pick_contact"))}</p>`}
      <button type="button" class="primary" data-action="suggest" ${!c || !(c && c.ticket_id) || confirmed ? "disabled" : ""} aria-disabled="${busy ? "true" : "false"}">${esc(busy === "next_steps" ? t("common.loading") : t("ns.load"))}</button>`;
    this.paint(head, result + footer, busy);
  }
}

customElements.define("cx-next-steps-panel", NextStepsPanel);
