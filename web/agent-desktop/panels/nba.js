// <cx-nba-panel>: next best action during the live contact (next_best_action): primary and
// fallback with reasons, suggested phrasing, suppressed offers; accept/reject is feedback.
import { callFunction, eventId } from "../lib/api.js";
import { engineHtml, errorHtml, esc, uid } from "../lib/dom.js";
import { label, t } from "../lib/i18n.js";
import { CHANNELS, Panel, transcript } from "../lib/panel.js";

export class NbaPanel extends Panel {
  constructor() {
    super();
    this.ids = { heading: uid("nba-h") };
    this.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-action]");
      if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") return;
      if (button.dataset.action === "suggest") this.suggest(performance.now());
      if (button.dataset.action === "outcome") this.outcome(button.dataset.offer, button.dataset.outcome);
    });
  }

  suggest(started = performance.now()) {
    const c = this.contact;
    if (!c) return null;
    const body = { customer_id: c.customer_id, channel: CHANNELS.next_best_action[c.channel], transcript: transcript(c) };
    if (c.ticket_id) body.ticket_id = c.ticket_id;
    return this.run("next_best_action", body, { started }).then((data) => {
      this.state = { ...this.state, outcomes: {} };
      this.render();
      return data;
    });
  }

  async outcome(offerId, outcome) {
    const data = this.state.data;
    try {
      await callFunction("feedback", {
        event_id: eventId("nba"), suggestion_id: data.suggestion_id, capability: "next_best_action",
        nba: { offer_id: offerId, outcome },
      });
      this.state = { ...this.state, outcomes: { ...this.state.outcomes, [offerId]: outcome }, outcomeError: null };
    } catch (err) {
      this.state = { ...this.state, outcomeError: err };
    }
    this.render();
  }

  actionHtml(kind, a) {
    if (!a) return "";
    const done = (this.state.outcomes || {})[a.offer_id];
    const badges = [
      `<span class="badge">${esc(t("offer_type." + a.type))}</span>`,
      a.discount_percent ? `<span class="badge">−${esc(a.discount_percent)} %</span>` : "",
      a.requires_agent_confirmation ? `<span class="badge warn">${esc(t("nba.needs_confirmation"))}</span>` : "",
    ].join(" ");
    return `<div class="action ${kind}" data-offer="${esc(a.offer_id)}">
      <h3>${esc(t("nba." + kind))}: ${esc(a.title)}</h3>
      <p>${badges} <span class="muted">${esc(a.offer_id)} · ${esc(t("nba.priority"))} ${Number(a.priority).toFixed(2)}</span></p>
      <div class="row" role="group" aria-label="${esc(t("nba.outcome_for", { title: a.title }))}">
        <button type="button" data-action="outcome" data-offer="${esc(a.offer_id)}" data-outcome="accepted" ${done ? "disabled" : ""}>${esc(t("nba.accept"))}</button>
        <button type="button" data-action="outcome" data-offer="${esc(a.offer_id)}" data-outcome="rejected" ${done ? "disabled" : ""}>${esc(t("nba.reject"))}</button>
        ${done ? `<span class="ok" role="status" data-outcome="${esc(done)}">${esc(t("feedback.recorded"))}: ${esc(t("nba." + done))}</span>` : ""}
      </div></div>`;
  }

  render() {
    const { busy, error, data, outcomeError } = this.state;
    const c = this.contact;
    let result = "";
    if (error) result = errorHtml(error);
    else if (data) {
      const reasons = (data.reasons || []).map((r) => `<li>${esc(r)}</li>`).join("");
      const suppressed = (data.suppressed || []).map((s) => `<li><code>${esc(s.offer_id)}</code> — ${esc(label("rule", s.rule))}</li>`).join("");
      result = `${engineHtml(data)}
        <p class="summary"><strong>${esc(t("nba.goal"))}:</strong> ${esc(data.customer_goal)}</p>
        <p class="facts"><span class="badge">${esc(t("reply.intent"))}: ${esc(data.intent)}</span>
          <span class="badge sentiment-${esc(data.sentiment.label)}">${esc(t("sentiment." + data.sentiment.label))} (${Number(data.sentiment.score).toFixed(2)})</span></p>
        ${data.primary ? this.actionHtml("primary", data.primary) : `<p class="muted">${esc(t("nba.nothing"))}</p>`}
        ${this.actionHtml("fallback", data.fallback)}
        ${data.model_choice_overridden ? `<p class="warn" role="note">${esc(t("nba.overridden"))}${data.override_reason ? ": " + esc(data.override_reason) : ""}</p>` : ""}
        <h3>${esc(t("nba.reasons"))}</h3><ul class="reasons">${reasons}</ul>
        <h3>${esc(t("nba.phrasing"))}</h3><blockquote class="phrasing">${esc(data.phrasing)}</blockquote>
        <details class="suppressed" open ${suppressed ? "" : "hidden"}><summary>${esc(t("nba.suppressed", { n: (data.suppressed || []).length }))}</summary><ul>${suppressed}</ul></details>
        ${outcomeError ? errorHtml(outcomeError) : ""}`;
    }
    this.setAttribute("role", "region");
    this.setAttribute("aria-labelledby", this.ids.heading);
    this.dataset.state = busy ? "busy" : error ? "error" : data ? "done" : "idle";
    const head = `<h2 id="${this.ids.heading}">${esc(t("nba.title"))}</h2>
      ${c ? "" : `<p class="muted">${esc(t("common.pick_contact"))}</p>`}
      <button type="button" class="primary" data-action="suggest" ${!c ? "disabled" : ""} aria-disabled="${busy ? "true" : "false"}">${esc(busy ? t("common.loading") : t("nba.load"))}</button>`;
    this.paint(head, result, busy);
  }
}

customElements.define("cx-nba-panel", NbaPanel);
